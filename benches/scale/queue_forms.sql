-- The pending part of the queue page of the busy area (coordinator of `default`), in the forms
-- it has had, for `SCALE_COMPARE_SQL=benches/scale/queue_forms.sql` (benches/scale.rs): each
-- statement is timed in turn, round-robin on one history, and its work counted in buffers.
-- Statements are separated by a line holding only `;`.

-- 1. Before 1fe4f27: one query, every pending case's whole row sorted, by the messages' area.
SELECT COUNT(*) OVER () AS pending_total, s.high_risk, s.children, s.agency, m.id, m.ref, m.message_id, m.file, m.arrived_at, m.outcome, m.criteria, m.reasons,
    m.dash_yes, m.dash_no, m.dash_unknown, m.case_kind, c.ref AS case_ref, c.meeting_date, p.ref AS person_ref,
    m.reply_kind, m.reply_to, m.area FROM messages m LEFT JOIN cases c ON c.id = m.case_id LEFT JOIN people p ON p.id = m.person_id
    LEFT JOIN message_signals s ON s.message_row = m.id
WHERE m.case_kind = 'new' AND c.status = 'pending'
  AND (m.area IN ('default') OR (m.area = '' AND EXISTS (SELECT 1 FROM message_candidates mc WHERE mc.message_row = m.id AND mc.area IN ('default'))))
ORDER BY c.meeting_date, CASE WHEN EXISTS (SELECT 1 FROM message_criteria mc WHERE mc.message_row = m.id AND mc.criterion = 'repeat') THEN 0 ELSE 1 END,
  COALESCE(m.dash_yes, -1) DESC, COALESCE(s.high_risk_count, 0) DESC, COALESCE(s.children, 0) DESC,
  CASE WHEN EXISTS (SELECT 1 FROM message_criteria mc WHERE mc.message_row = m.id AND mc.criterion = 'potential_escalation') THEN 0 ELSE 1 END, m.arrived_at, m.id
LIMIT 200
;
-- 2. 1fe4f27: the order decided over narrow rows (the page's 200 rows are then read by id).
SELECT m.id, COUNT(*) OVER () AS pending_total FROM messages m LEFT JOIN cases c ON c.id = m.case_id LEFT JOIN message_signals s ON s.message_row = m.id
WHERE m.case_kind = 'new' AND c.status = 'pending'
  AND (m.area IN ('default') OR (m.area = '' AND EXISTS (SELECT 1 FROM message_candidates mc WHERE mc.message_row = m.id AND mc.area IN ('default'))))
ORDER BY c.meeting_date, CASE WHEN EXISTS (SELECT 1 FROM message_criteria mc WHERE mc.message_row = m.id AND mc.criterion = 'repeat') THEN 0 ELSE 1 END,
  COALESCE(m.dash_yes, -1) DESC, COALESCE(s.high_risk_count, 0) DESC, COALESCE(s.children, 0) DESC,
  CASE WHEN EXISTS (SELECT 1 FROM message_criteria mc WHERE mc.message_row = m.id AND mc.criterion = 'potential_escalation') THEN 0 ELSE 1 END, m.arrived_at, m.id
LIMIT 200
;
-- 3. ef4ef5a: narrow rows, the pending cases found by the cases' own area.
SELECT m.id, COUNT(*) OVER () AS pending_total FROM messages m LEFT JOIN cases c ON c.id = m.case_id LEFT JOIN message_signals s ON s.message_row = m.id
WHERE m.case_kind = 'new' AND c.status = 'pending' AND c.area IN ('default')
ORDER BY c.meeting_date, CASE WHEN EXISTS (SELECT 1 FROM message_criteria mc WHERE mc.message_row = m.id AND mc.criterion = 'repeat') THEN 0 ELSE 1 END,
  COALESCE(m.dash_yes, -1) DESC, COALESCE(s.high_risk_count, 0) DESC, COALESCE(s.children, 0) DESC,
  CASE WHEN EXISTS (SELECT 1 FROM message_criteria mc WHERE mc.message_row = m.id AND mc.criterion = 'potential_escalation') THEN 0 ELSE 1 END, m.arrived_at, m.id
LIMIT 200

;
-- 4. Migration 21: narrow rows, the cases' own area, the criteria's flags read with the signals.
SELECT m.id, COUNT(*) OVER () AS pending_total FROM messages m LEFT JOIN cases c ON c.id = m.case_id LEFT JOIN message_signals s ON s.message_row = m.id
WHERE m.case_kind = 'new' AND c.status = 'pending' AND c.area IN ('default')
ORDER BY c.meeting_date, COALESCE(s.is_repeat, 0) DESC, COALESCE(m.dash_yes, -1) DESC, COALESCE(s.high_risk_count, 0) DESC,
  COALESCE(s.children, 0) DESC, COALESCE(s.is_escalation, 0) DESC, m.arrived_at, m.id
LIMIT 200
;
-- 5. The review items of the page (the quarantined messages are read the same way), as the page
-- reads them: by the message's area, with the items whose area could not be told that may be
-- the user's (migration 21's `messages_by_area_outcome`).
SELECT s.high_risk, s.children, s.agency, m.id, m.ref, m.message_id, m.file, m.arrived_at, m.outcome, m.criteria, m.reasons,
    m.dash_yes, m.dash_no, m.dash_unknown, m.case_kind, c.ref AS case_ref, c.meeting_date, p.ref AS person_ref,
    m.reply_kind, m.reply_to, m.area FROM messages m LEFT JOIN cases c ON c.id = m.case_id LEFT JOIN people p ON p.id = m.person_id
    LEFT JOIN message_signals s ON s.message_row = m.id
WHERE m.outcome = 'review'
  AND (m.area IN ('default') OR (m.area = '' AND EXISTS (SELECT 1 FROM message_candidates mc WHERE mc.message_row = m.id AND mc.area IN ('default'))))
ORDER BY m.arrived_at, m.id
