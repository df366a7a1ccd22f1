use super::*;
use proptest::prelude::*;

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a real date")
}

fn config(kind: ScheduleKind, weekday: DayOfWeek) -> ScheduleConfig {
    ScheduleConfig {
        kind,
        weekday,
        nth: None,
        anchor: None,
        cutoff_days: 0,
        skip: Vec::new(),
        add: Vec::new(),
    }
}

fn second_tuesday() -> ScheduleConfig {
    ScheduleConfig {
        nth: Some(Nth::Second),
        ..config(ScheduleKind::Monthly, DayOfWeek::Tue)
    }
}

fn build(c: &ScheduleConfig) -> Schedule {
    c.validate().expect("a valid schedule")
}

#[test]
fn monthly_second_tuesday_2025() {
    let s = build(&second_tuesday());
    let got = s.meetings_between(ymd(2025, 1, 1), ymd(2025, 12, 31));
    let expected = [
        ymd(2025, 1, 14),
        ymd(2025, 2, 11),
        ymd(2025, 3, 11),
        ymd(2025, 4, 8),
        ymd(2025, 5, 13),
        ymd(2025, 6, 10),
        ymd(2025, 7, 8),
        ymd(2025, 8, 12),
        ymd(2025, 9, 9),
        ymd(2025, 10, 14),
        ymd(2025, 11, 11),
        ymd(2025, 12, 9),
    ];
    assert_eq!(got, expected);
    // The same dates from chrono's own calendar.
    for (m, d) in (1..=12).zip(expected) {
        assert_eq!(
            NaiveDate::from_weekday_of_month_opt(2025, m, Weekday::Tue, 2),
            Some(d)
        );
    }
}

#[test]
fn monthly_last_and_fourth_differ_in_five_week_months() {
    let last = build(&ScheduleConfig {
        nth: Some(Nth::Last),
        ..config(ScheduleKind::Monthly, DayOfWeek::Fri)
    });
    let fourth = build(&ScheduleConfig {
        nth: Some(Nth::Fourth),
        ..config(ScheduleKind::Monthly, DayOfWeek::Fri)
    });
    // January 2025 has five Fridays (3, 10, 17, 24, 31); February four.
    assert_eq!(
        last.meetings_between(ymd(2025, 1, 1), ymd(2025, 2, 28)),
        [ymd(2025, 1, 31), ymd(2025, 2, 28)]
    );
    assert_eq!(
        fourth.meetings_between(ymd(2025, 1, 1), ymd(2025, 2, 28)),
        [ymd(2025, 1, 24), ymd(2025, 2, 28)]
    );
    // The last day of a leap February.
    let thursday = build(&ScheduleConfig {
        nth: Some(Nth::Last),
        ..config(ScheduleKind::Monthly, DayOfWeek::Thu)
    });
    assert!(thursday.is_meeting_day(ymd(2024, 2, 29)));
    assert!(!thursday.is_meeting_day(ymd(2024, 2, 22)));
    assert_eq!(
        thursday.next_meeting(ymd(2024, 2, 28)),
        Some(ymd(2024, 2, 29))
    );
    assert_eq!(
        thursday.next_meeting(ymd(2024, 2, 29)),
        Some(ymd(2024, 3, 28))
    );
}

#[test]
fn weekly() {
    let s = build(&config(ScheduleKind::Weekly, DayOfWeek::Mon));
    assert_eq!(
        s.meetings_between(ymd(2025, 1, 1), ymd(2025, 1, 31)),
        [
            ymd(2025, 1, 6),
            ymd(2025, 1, 13),
            ymd(2025, 1, 20),
            ymd(2025, 1, 27)
        ]
    );
    // Both ends included.
    assert_eq!(
        s.meetings_between(ymd(2025, 1, 6), ymd(2025, 1, 13)),
        [ymd(2025, 1, 6), ymd(2025, 1, 13)]
    );
    // Across the end of the year.
    assert_eq!(s.next_meeting(ymd(2024, 12, 30)), Some(ymd(2025, 1, 6)));
    assert_eq!(s.next_meeting(ymd(2024, 12, 31)), Some(ymd(2025, 1, 6)));
}

#[test]
fn fortnightly_from_an_anchor_both_ways() {
    let s = build(&ScheduleConfig {
        anchor: Some(ymd(2025, 1, 14)),
        ..config(ScheduleKind::Fortnightly, DayOfWeek::Tue)
    });
    assert_eq!(
        s.meetings_between(ymd(2024, 12, 20), ymd(2025, 2, 28)),
        [
            ymd(2024, 12, 31),
            ymd(2025, 1, 14),
            ymd(2025, 1, 28),
            ymd(2025, 2, 11),
            ymd(2025, 2, 25)
        ]
    );
    assert!(!s.is_meeting_day(ymd(2025, 1, 21)));
    assert_eq!(s.next_meeting(ymd(2025, 1, 14)), Some(ymd(2025, 1, 28)));
    assert_eq!(s.next_meeting(ymd(2025, 1, 13)), Some(ymd(2025, 1, 14)));
}

#[test]
fn skip_and_add() {
    let s = build(&ScheduleConfig {
        skip: vec![ymd(2025, 12, 9)],
        add: vec![ymd(2025, 12, 16), ymd(2025, 12, 16)],
        ..second_tuesday()
    });
    assert!(!s.is_meeting_day(ymd(2025, 12, 9)));
    assert!(s.is_meeting_day(ymd(2025, 12, 16)));
    assert_eq!(
        s.meetings_between(ymd(2025, 11, 1), ymd(2026, 1, 31)),
        [ymd(2025, 11, 11), ymd(2025, 12, 16), ymd(2026, 1, 13)]
    );
    assert_eq!(s.next_meeting(ymd(2025, 11, 11)), Some(ymd(2025, 12, 16)));
    assert_eq!(s.next_meeting(ymd(2025, 12, 8)), Some(ymd(2025, 12, 16)));
    assert_eq!(s.next_meeting(ymd(2025, 12, 16)), Some(ymd(2026, 1, 13)));
    // An added date before the regular one wins.
    let early = build(&ScheduleConfig {
        add: vec![ymd(2025, 2, 3)],
        ..second_tuesday()
    });
    assert_eq!(early.next_meeting(ymd(2025, 1, 20)), Some(ymd(2025, 2, 3)));
}

#[test]
fn cutoff_zero_boundaries() {
    let s = build(&second_tuesday());
    // The meeting of 2025-02-11.
    assert_eq!(
        s.next_meeting(ymd(2025, 2, 10)),
        Some(ymd(2025, 2, 11)),
        "the day before"
    );
    assert_eq!(
        s.next_meeting(ymd(2025, 2, 11)),
        Some(ymd(2025, 3, 11)),
        "on the day"
    );
    assert_eq!(
        s.next_meeting(ymd(2025, 2, 12)),
        Some(ymd(2025, 3, 11)),
        "the day after"
    );
}

#[test]
fn cutoff_three_boundaries() {
    let s = build(&ScheduleConfig {
        cutoff_days: 3,
        ..second_tuesday()
    });
    assert_eq!(s.cutoff_days(), 3);
    assert_eq!(
        s.next_meeting(ymd(2025, 2, 7)),
        Some(ymd(2025, 2, 11)),
        "4 days before"
    );
    assert_eq!(
        s.next_meeting(ymd(2025, 2, 8)),
        Some(ymd(2025, 3, 11)),
        "3 days before"
    );
    assert_eq!(
        s.next_meeting(ymd(2025, 2, 10)),
        Some(ymd(2025, 3, 11)),
        "the day before"
    );
    assert_eq!(
        s.next_meeting(ymd(2025, 2, 11)),
        Some(ymd(2025, 3, 11)),
        "on the day"
    );
    // A cut-off that reaches past the following meeting.
    assert_eq!(s.next_meeting(ymd(2025, 3, 8)), Some(ymd(2025, 4, 8)));
}

#[test]
fn month_ends() {
    let s = build(&second_tuesday());
    assert_eq!(s.next_meeting(ymd(2024, 12, 31)), Some(ymd(2025, 1, 14)));
    assert_eq!(s.next_meeting(ymd(2025, 1, 31)), Some(ymd(2025, 2, 11)));
    assert_eq!(s.next_meeting(ymd(2025, 2, 28)), Some(ymd(2025, 3, 11)));
    assert_eq!(s.next_meeting(ymd(2024, 2, 29)), Some(ymd(2024, 3, 12)));
    // A cut-off that crosses the end of the month.
    let c = build(&ScheduleConfig {
        cutoff_days: 14,
        ..second_tuesday()
    });
    assert_eq!(c.next_meeting(ymd(2025, 1, 27)), Some(ymd(2025, 2, 11)));
    assert_eq!(c.next_meeting(ymd(2025, 1, 28)), Some(ymd(2025, 3, 11)));
}

#[test]
fn meetings_between_is_bounded_and_ordered() {
    let s = build(&config(ScheduleKind::Weekly, DayOfWeek::Mon));
    let all = s.meetings_between(ymd(2000, 1, 1), ymd(2100, 1, 1));
    assert_eq!(all.len(), MAX_MEETINGS);
    assert_eq!(all[0], ymd(2000, 1, 3));
    assert!(all.windows(2).all(|w| w[0] < w[1]));
    assert!(s
        .meetings_between(ymd(2025, 2, 1), ymd(2025, 1, 1))
        .is_empty());
    // The whole calendar: bounded, no overflow.
    assert_eq!(
        s.meetings_between(NaiveDate::MIN, NaiveDate::MAX).len(),
        MAX_MEETINGS
    );
    let f = build(&ScheduleConfig {
        anchor: Some(ymd(2025, 1, 14)),
        ..config(ScheduleKind::Fortnightly, DayOfWeek::Tue)
    });
    assert!(
        f.meetings_between(NaiveDate::MAX - Days::new(30), NaiveDate::MAX)
            .len()
            <= 3
    );
}

#[test]
fn next_meeting_at_the_end_of_the_calendar_is_none() {
    let s = build(&ScheduleConfig {
        cutoff_days: 90,
        ..second_tuesday()
    });
    assert_eq!(s.next_meeting(NaiveDate::MAX), None);
    assert_eq!(s.next_meeting(NaiveDate::MAX - Days::new(60)), None);
}

#[test]
fn next_meeting_is_none_when_every_meeting_in_the_horizon_is_cancelled() {
    let mondays: Vec<NaiveDate> = (0..110)
        .map(|w| ymd(2025, 1, 6) + Days::new(7 * w))
        .collect();
    let s = build(&ScheduleConfig {
        skip: mondays,
        ..config(ScheduleKind::Weekly, DayOfWeek::Mon)
    });
    assert_eq!(s.next_meeting(ymd(2025, 1, 1)), None);
    // Past the cancelled stretch (its last Monday is 2027-02-08), meetings resume.
    assert_eq!(s.next_meeting(ymd(2027, 2, 1)), Some(ymd(2027, 2, 15)));
}

#[test]
fn validation_names_the_key() {
    let wrong_anchor = ScheduleConfig {
        anchor: Some(ymd(2025, 1, 8)),
        ..config(ScheduleKind::Fortnightly, DayOfWeek::Tue)
    };
    let err = wrong_anchor.validate().expect_err("a Wednesday anchor");
    assert_eq!(
        err.to_string(),
        "schedule.anchor: 2025-01-08 is a Wednesday, not a Tuesday"
    );
    assert_eq!(err.key(), "anchor");

    let err = config(ScheduleKind::Fortnightly, DayOfWeek::Tue)
        .validate()
        .expect_err("no anchor");
    assert_eq!(err, ScheduleError::MissingAnchor);
    assert!(err.to_string().starts_with("schedule.anchor: "));

    let err = config(ScheduleKind::Monthly, DayOfWeek::Tue)
        .validate()
        .expect_err("no nth");
    assert_eq!(
        err.to_string(),
        "schedule.nth: a monthly schedule needs which Tuesday of the month: 1, 2, 3, 4 or \"last\""
    );

    let err = ScheduleConfig {
        nth: Some(Nth::First),
        ..config(ScheduleKind::Weekly, DayOfWeek::Mon)
    }
    .validate()
    .expect_err("nth on a weekly schedule");
    assert_eq!(
        err.to_string(),
        "schedule.nth: only a monthly schedule takes nth; this one is weekly"
    );

    let err = ScheduleConfig {
        anchor: Some(ymd(2025, 1, 14)),
        ..second_tuesday()
    }
    .validate()
    .expect_err("anchor on a monthly schedule");
    assert_eq!(err.key(), "anchor");

    let err = ScheduleConfig {
        cutoff_days: 91,
        ..second_tuesday()
    }
    .validate()
    .expect_err("cutoff");
    assert_eq!(
        err.to_string(),
        "schedule.cutoff_days: 91 days is more than the limit of 90"
    );
    assert!(ScheduleConfig {
        cutoff_days: 90,
        ..second_tuesday()
    }
    .validate()
    .is_ok());

    let err = ScheduleConfig {
        skip: vec![ymd(2025, 2, 12)],
        ..second_tuesday()
    }
    .validate()
    .expect_err("skip of a day without a meeting");
    assert_eq!(
        err.to_string(),
        "schedule.skip: 2025-02-12 is not a regular meeting day (a Wednesday; meetings are on \
             the second Tuesday of each month)"
    );

    let err = ScheduleConfig {
        add: vec![ymd(2025, 2, 11)],
        ..second_tuesday()
    }
    .validate()
    .expect_err("add of a regular meeting day");
    assert_eq!(err.key(), "add");
    assert!(err
        .to_string()
        .starts_with("schedule.add: 2025-02-11 is already a regular meeting day"));

    let many: Vec<NaiveDate> = (0..501)
        .map(|w| ymd(2025, 1, 6) + Days::new(7 * w))
        .collect();
    let err = ScheduleConfig {
        skip: many,
        ..config(ScheduleKind::Weekly, DayOfWeek::Mon)
    }
    .validate()
    .expect_err("too many dates");
    assert_eq!(
        err,
        ScheduleError::TooManyDates {
            key: "skip",
            count: 501
        }
    );
}

#[test]
fn reads_toml() {
    let c: ScheduleConfig = toml::from_str(
        r#"
            kind = "monthly"
            weekday = "tue"
            nth = 2
            skip = ["2025-12-09"]
            add = ["2025-12-16"]
            "#,
    )
    .expect("parses");
    assert_eq!(c.cutoff_days, 0);
    assert_eq!(c.nth, Some(Nth::Second));
    let s = build(&c);
    assert_eq!(s.next_meeting(ymd(2025, 12, 1)), Some(ymd(2025, 12, 16)));

    let last: ScheduleConfig = toml::from_str(
        "kind = \"monthly\"\nweekday = \"friday\"\nnth = \"last\"\ncutoff_days = 3",
    )
    .expect("parses");
    assert_eq!(
        (last.weekday, last.nth, last.cutoff_days),
        (DayOfWeek::Fri, Some(Nth::Last), 3)
    );

    let f: ScheduleConfig =
        toml::from_str("kind = \"fortnightly\"\nweekday = \"wed\"\nanchor = \"2025-01-08\"")
            .expect("parses");
    assert!(f.validate().is_ok());
}

#[test]
fn refuses_unknown_keys_and_bad_values() {
    for bad in [
        "kind = \"monthly\"\nweekday = \"tue\"\nnth = 2\ncutof_days = 3",
        "kind = \"daily\"\nweekday = \"tue\"",
        "kind = \"weekly\"\nweekday = \"tues\"",
        "kind = \"monthly\"\nweekday = \"tue\"\nnth = 5",
        "kind = \"monthly\"\nweekday = \"tue\"\nnth = 0",
        "kind = \"monthly\"\nweekday = \"tue\"\nnth = \"fifth\"",
        "kind = \"weekly\"\nweekday = \"tue\"\ncutoff_days = -1",
        "kind = \"weekly\"\nweekday = \"tue\"\nskip = [\"2025-02-30\"]",
        "weekday = \"tue\"",
    ] {
        assert!(
            toml::from_str::<ScheduleConfig>(bad).is_err(),
            "accepted: {bad}"
        );
    }
}

#[test]
fn nth_reads_numbers_words_and_strings() {
    let read = |s: &str| serde_json::from_str::<Nth>(s).ok();
    assert_eq!(read("1"), Some(Nth::First));
    assert_eq!(read("4"), Some(Nth::Fourth));
    assert_eq!(read("-1"), Some(Nth::Last));
    assert_eq!(read("\"last\""), Some(Nth::Last));
    assert_eq!(read("\"LAST\""), Some(Nth::Last));
    assert_eq!(read("\"2\""), Some(Nth::Second));
    assert_eq!(read("\"third\""), Some(Nth::Third));
    assert_eq!(read("5"), None);
    assert_eq!(read("18446744073709551615"), None);
    assert_eq!(read("2.0"), None);
}

#[test]
fn json_round_trip() {
    let c = ScheduleConfig {
        cutoff_days: 2,
        skip: vec![ymd(2025, 12, 9)],
        add: vec![ymd(2025, 12, 16)],
        ..second_tuesday()
    };
    let json = serde_json::to_value(&c).expect("serialises");
    assert_eq!(
        json,
        serde_json::json!({
            "kind": "monthly", "weekday": "tue", "nth": 2, "cutoff_days": 2,
            "skip": ["2025-12-09"], "add": ["2025-12-16"]
        })
    );
    let back: ScheduleConfig = serde_json::from_value(json).expect("deserialises");
    assert_eq!(back, c);
}

#[test]
fn display_says_what_was_understood() {
    let s = build(&ScheduleConfig {
        cutoff_days: 1,
        skip: vec![ymd(2025, 12, 9)],
        add: vec![ymd(2025, 12, 16)],
        ..second_tuesday()
    });
    assert_eq!(
        s.to_string(),
        "meetings on the second Tuesday of each month; a referral is heard at a meeting if it \
             arrives more than 1 day before it; cancelled: 2025-12-09; added: 2025-12-16"
    );
}

// ---- property tests ----

fn day() -> impl Strategy<Value = NaiveDate> {
    (0u64..20_000).prop_map(|n| ymd(2000, 1, 1) + Days::new(n))
}

fn day_of_week() -> impl Strategy<Value = DayOfWeek> {
    prop::sample::select(vec![
        DayOfWeek::Mon,
        DayOfWeek::Tue,
        DayOfWeek::Wed,
        DayOfWeek::Thu,
        DayOfWeek::Fri,
        DayOfWeek::Sat,
        DayOfWeek::Sun,
    ])
}

fn nth() -> impl Strategy<Value = Nth> {
    prop::sample::select(vec![
        Nth::First,
        Nth::Second,
        Nth::Third,
        Nth::Fourth,
        Nth::Last,
    ])
}

/// A valid pattern of one of `kinds`, without exceptions.
fn plain_of(kinds: Vec<ScheduleKind>) -> impl Strategy<Value = ScheduleConfig> {
    (
        prop::sample::select(kinds),
        day_of_week(),
        nth(),
        day(),
        0..=10u32,
    )
        .prop_map(|(kind, weekday, nth, anchor_near, cutoff)| {
            let mut c = ScheduleConfig {
                cutoff_days: cutoff,
                ..config(kind, weekday)
            };
            match kind {
                ScheduleKind::Weekly => {}
                ScheduleKind::Fortnightly => {
                    let w = weekday.weekday();
                    let ahead = (7 + w.num_days_from_monday()
                        - anchor_near.weekday().num_days_from_monday())
                        % 7;
                    c.anchor = Some(anchor_near + Days::new(u64::from(ahead)));
                }
                ScheduleKind::Monthly => c.nth = Some(nth),
            }
            c
        })
}

fn plain() -> impl Strategy<Value = ScheduleConfig> {
    plain_of(vec![
        ScheduleKind::Weekly,
        ScheduleKind::Fortnightly,
        ScheduleKind::Monthly,
    ])
}

/// A valid schedule with some regular meetings skipped and some days added, near `day()`.
fn schedule() -> impl Strategy<Value = Schedule> {
    (
        plain(),
        day(),
        prop::collection::vec(any::<prop::sample::Index>(), 0..6),
        prop::collection::vec(0u64..400, 0..6),
    )
        .prop_map(|(c, around, skips, adds)| {
            let base = build(&c);
            let window = base.meetings_between(around, around + Days::new(400));
            let mut skip: Vec<NaiveDate> = skips
                .iter()
                .map(|i| window[i.index(window.len())])
                .collect();
            skip.sort();
            skip.dedup();
            let add: Vec<NaiveDate> = adds
                .iter()
                .map(|n| around + Days::new(*n))
                .filter(|d| !base.is_meeting_day(*d))
                .collect();
            build(&ScheduleConfig { skip, add, ..c })
        })
}

proptest! {
    #[test]
    fn next_meeting_is_the_first_eligible_meeting(s in schedule(), d in day()) {
        let next = s.next_meeting(d);
        prop_assert!(next.is_some(), "the generated schedules always meet within two years");
        if let Some(next) = next {
            prop_assert!(next > d);
            prop_assert!(next > d + Days::new(u64::from(s.cutoff_days())));
            prop_assert!(s.is_meeting_day(next));
            let skipped = s.meetings_between(d + Days::new(u64::from(s.cutoff_days()) + 1), next - Days::new(1));
            prop_assert!(skipped.is_empty(), "passed over {:?}", skipped);
        }
    }

    #[test]
    fn next_meeting_is_monotonic(s in schedule(), d in day(), later in 0u64..100) {
        let e = d + Days::new(later);
        if let (Some(a), Some(b)) = (s.next_meeting(d), s.next_meeting(e)) {
            prop_assert!(a <= b);
        }
    }

    #[test]
    fn meetings_between_is_exactly_the_meeting_days(s in schedule(), from in day(), len in 0u64..400) {
        let to = from + Days::new(len);
        let got = s.meetings_between(from, to);
        let expected: Vec<NaiveDate> = from.iter_days().take_while(|d| *d <= to).filter(|d| s.is_meeting_day(*d)).collect();
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn monthly_agrees_with_chrono(weekday in day_of_week(), n in 1u8..=4, d in day()) {
        let nth = [Nth::First, Nth::Second, Nth::Third, Nth::Fourth][usize::from(n - 1)];
        let s = build(&ScheduleConfig { nth: Some(nth), ..config(ScheduleKind::Monthly, weekday) });
        let expected = NaiveDate::from_weekday_of_month_opt(d.year(), d.month(), weekday.weekday(), n);
        prop_assert_eq!(s.is_meeting_day(d), expected == Some(d));
    }

    #[test]
    fn monthly_meets_once_a_month(c in plain_of(vec![ScheduleKind::Monthly]), d in day()) {
        let s = build(&c);
        let first = ymd(d.year(), d.month(), 1);
        let last = (first + chrono::Months::new(1)) - Days::new(1);
        prop_assert_eq!(s.meetings_between(first, last).len(), 1);
    }

    #[test]
    fn regular_meetings_are_evenly_spaced(
        c in plain_of(vec![ScheduleKind::Weekly, ScheduleKind::Fortnightly]),
        d in day(),
    ) {
        let gap = if c.kind == ScheduleKind::Weekly { 7 } else { 14 };
        let s = build(&c);
        let m = s.meetings_between(d, d + Days::new(200));
        prop_assert!(m.windows(2).all(|w| (w[1] - w[0]).num_days() == gap));
        prop_assert!(m.iter().all(|x| x.weekday() == c.weekday.weekday()));
    }

    #[test]
    fn config_round_trips_through_toml(c in plain()) {
        let text = toml::to_string(&c).expect("serialises");
        let back: ScheduleConfig = toml::from_str(&text).expect("deserialises");
        prop_assert_eq!(back, c);
    }
}
