//! Binary containers the product must recognise but cannot read: OLE compound files (legacy
//! .doc, password-protected Office), Outlook's TNEF winmail.dat.

use crate::util::{base64, cp1252, Rng};

const ENDOFCHAIN: u32 = 0xFFFF_FFFE;
const FREESECT: u32 = 0xFFFF_FFFF;
const FATSECT: u32 = 0xFFFF_FFFD;
const NOSTREAM: u32 = 0xFFFF_FFFF;

/// A node of a compound file: a stream with data, or a storage with children.
pub enum Node {
    Stream(&'static str, Vec<u8>),
    Storage(&'static str, Vec<Node>),
}

struct Entry {
    name: String,
    kind: u8,
    left: u32,
    right: u32,
    child: u32,
    start: u32,
    size: u32,
}

/// CFB ordering of sibling names: shorter first, then by upper-case code units.
fn cfb_key(name: &str) -> (usize, Vec<u16>) {
    let units: Vec<u16> = name.to_uppercase().encode_utf16().collect();
    (units.len(), units)
}

/// A version 3 compound file (512-byte sectors). Every stream is padded to at least 4096 bytes
/// so that all live in regular sectors (no mini stream).
pub fn cfb(root: Vec<Node>) -> Vec<u8> {
    let mut entries = vec![Entry {
        name: "Root Entry".into(),
        kind: 5,
        left: NOSTREAM,
        right: NOSTREAM,
        child: NOSTREAM,
        start: ENDOFCHAIN,
        size: 0,
    }];
    let mut streams: Vec<(usize, Vec<u8>)> = Vec::new();

    fn add(children: Vec<Node>, entries: &mut Vec<Entry>, streams: &mut Vec<(usize, Vec<u8>)>) -> u32 {
        let mut ids = Vec::new();
        for node in children {
            let id = entries.len();
            match node {
                Node::Stream(name, mut data) => {
                    if data.len() < 4096 {
                        data.resize(4096, 0);
                    }
                    entries.push(Entry {
                        name: name.into(),
                        kind: 2,
                        left: NOSTREAM,
                        right: NOSTREAM,
                        child: NOSTREAM,
                        start: 0,
                        size: data.len() as u32,
                    });
                    streams.push((id, data));
                }
                Node::Storage(name, kids) => {
                    entries.push(Entry {
                        name: name.into(),
                        kind: 1,
                        left: NOSTREAM,
                        right: NOSTREAM,
                        child: NOSTREAM,
                        start: 0,
                        size: 0,
                    });
                    let c = add(kids, entries, streams);
                    entries[id].child = c;
                }
            }
            ids.push(id);
        }
        ids.sort_by_key(|&i| cfb_key(&entries[i].name));
        fn tree(ids: &[usize], entries: &mut Vec<Entry>) -> u32 {
            if ids.is_empty() {
                return NOSTREAM;
            }
            let mid = ids.len() / 2;
            let l = tree(&ids[..mid], entries);
            let r = tree(&ids[mid + 1..], entries);
            entries[ids[mid]].left = l;
            entries[ids[mid]].right = r;
            ids[mid] as u32
        }
        tree(&ids, entries)
    }
    let c = add(root, &mut entries, &mut streams);
    entries[0].child = c;

    let dir_sectors = entries.len().div_ceil(4);
    let stream_sectors: usize = streams.iter().map(|(_, d)| d.len().div_ceil(512)).sum();
    let total = 1 + dir_sectors + stream_sectors;
    assert!(total <= 128, "one FAT sector is enough for the fixtures");
    let mut fat = vec![FREESECT; 128];
    fat[0] = FATSECT;
    for i in 0..dir_sectors {
        let s = 1 + i;
        fat[s] = if i + 1 == dir_sectors { ENDOFCHAIN } else { (s + 1) as u32 };
    }
    let mut next = 1 + dir_sectors;
    for (id, data) in &streams {
        let n = data.len().div_ceil(512);
        entries[*id].start = next as u32;
        for i in 0..n {
            fat[next + i] = if i + 1 == n { ENDOFCHAIN } else { (next + i + 1) as u32 };
        }
        next += n;
    }

    let mut out = Vec::with_capacity(512 * (total + 1));
    out.extend_from_slice(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]);
    out.extend_from_slice(&[0; 16]);
    out.extend_from_slice(&0x003Eu16.to_le_bytes());
    out.extend_from_slice(&0x0003u16.to_le_bytes());
    out.extend_from_slice(&0xFFFEu16.to_le_bytes());
    out.extend_from_slice(&9u16.to_le_bytes());
    out.extend_from_slice(&6u16.to_le_bytes());
    out.extend_from_slice(&[0; 6]);
    out.extend_from_slice(&0u32.to_le_bytes()); // directory sectors (0 in version 3)
    out.extend_from_slice(&1u32.to_le_bytes()); // FAT sectors
    out.extend_from_slice(&1u32.to_le_bytes()); // first directory sector
    out.extend_from_slice(&0u32.to_le_bytes()); // transaction signature
    out.extend_from_slice(&4096u32.to_le_bytes()); // mini stream cutoff
    out.extend_from_slice(&ENDOFCHAIN.to_le_bytes()); // first mini FAT sector
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&ENDOFCHAIN.to_le_bytes()); // first DIFAT sector
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes()); // DIFAT[0] = sector 0
    for _ in 1..109 {
        out.extend_from_slice(&FREESECT.to_le_bytes());
    }
    assert_eq!(out.len(), 512);
    for v in &fat {
        out.extend_from_slice(&v.to_le_bytes());
    }
    let mut dir = Vec::new();
    for e in &entries {
        let mut name = [0u8; 64];
        let units: Vec<u16> = e.name.encode_utf16().collect();
        for (i, u) in units.iter().enumerate() {
            name[2 * i..2 * i + 2].copy_from_slice(&u.to_le_bytes());
        }
        dir.extend_from_slice(&name);
        dir.extend_from_slice(&((units.len() as u16 + 1) * 2).to_le_bytes());
        dir.push(e.kind);
        dir.push(1); // black
        dir.extend_from_slice(&e.left.to_le_bytes());
        dir.extend_from_slice(&e.right.to_le_bytes());
        dir.extend_from_slice(&e.child.to_le_bytes());
        dir.extend_from_slice(&[0; 16]); // CLSID
        dir.extend_from_slice(&[0; 4]); // state bits
        dir.extend_from_slice(&[0; 16]); // times
        dir.extend_from_slice(&e.start.to_le_bytes());
        dir.extend_from_slice(&u64::from(e.size).to_le_bytes());
    }
    while dir.len() < dir_sectors * 512 {
        let mut empty = [0u8; 128];
        empty[68..80].copy_from_slice(&[0xFF; 12]);
        dir.extend_from_slice(&empty);
    }
    out.extend_from_slice(&dir);
    for (_, data) in &streams {
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out
}

/// A Word 97-2003 document: FIB magic 0xA5EC, text in the WordDocument stream, a 1Table stream.
pub fn legacy_doc(text: &str) -> Vec<u8> {
    let body = cp1252(text);
    let mut wd = vec![0u8; 0x800];
    wd[0..2].copy_from_slice(&0xA5ECu16.to_le_bytes()); // wIdent
    wd[2..4].copy_from_slice(&0x00C1u16.to_le_bytes()); // nFib (Word 97)
    wd[4..6].copy_from_slice(&0x6A62u16.to_le_bytes()); // product build
    wd[6..8].copy_from_slice(&0x0809u16.to_le_bytes()); // lid: English (UK)
    wd[10..12].copy_from_slice(&0x0200u16.to_le_bytes()); // flags: fWhichTblStm = 1 (1Table)
    wd[0x18..0x1C].copy_from_slice(&0x0800u32.to_le_bytes()); // fcMin
    wd[0x1C..0x20].copy_from_slice(&(0x0800 + body.len() as u32).to_le_bytes()); // fcMac
    wd.extend_from_slice(&body);
    let mut table = vec![0u8; 512];
    table[0] = 0x02; // a minimal piece table marker
    let comp_obj = {
        let mut v = vec![0x01, 0x00, 0xFE, 0xFF, 0x03, 0x0A, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF];
        v.extend_from_slice(&[0x06, 0x09, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC0, 0, 0, 0, 0, 0, 0, 0x46]);
        let s = b"Microsoft Word 97-2003 Document\0";
        v.extend_from_slice(&(s.len() as u32).to_le_bytes());
        v.extend_from_slice(s);
        v
    };
    cfb(vec![Node::Stream("WordDocument", wd), Node::Stream("1Table", table), Node::Stream("\u{1}CompObj", comp_obj)])
}

/// A password-protected OOXML file (agile encryption): EncryptionInfo + EncryptedPackage.
pub fn encrypted_office(seed: u64, plain_size: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut b64 = |n: usize| base64(&rng.bytes(n));
    let xml = format!(
        concat!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\r\n",
            r#"<encryption xmlns="http://schemas.microsoft.com/office/2006/encryption" xmlns:p="http://schemas.microsoft.com/office/2006/keyEncryptor/password" xmlns:c="http://schemas.microsoft.com/office/2006/keyEncryptor/certificate">"#,
            r#"<keyData saltSize="16" blockSize="16" keyBits="256" hashSize="64" cipherAlgorithm="AES" cipherChaining="ChainingModeCBC" hashAlgorithm="SHA512" saltValue="{}"/>"#,
            r#"<dataIntegrity encryptedHmacKey="{}" encryptedHmacValue="{}"/>"#,
            r#"<keyEncryptors><keyEncryptor uri="http://schemas.microsoft.com/office/2006/keyEncryptor/password"><p:encryptedKey spinCount="100000" saltSize="16" blockSize="16" keyBits="256" hashSize="64" cipherAlgorithm="AES" cipherChaining="ChainingModeCBC" hashAlgorithm="SHA512" saltValue="{}" encryptedVerifierHashInput="{}" encryptedVerifierHashValue="{}" encryptedKeyValue="{}"/></keyEncryptor></keyEncryptors></encryption>"#
        ),
        b64(16),
        b64(64),
        b64(64),
        b64(16),
        b64(16),
        b64(64),
        b64(32)
    );
    let mut info = vec![0x04, 0x00, 0x04, 0x00, 0x40, 0x00, 0x00, 0x00];
    info.extend_from_slice(xml.as_bytes());
    let mut package = plain_size.to_le_bytes().to_vec();
    package.extend(rng.bytes(plain_size.div_ceil(4096) as usize * 4096));
    let version = {
        let mut v = Vec::new();
        let name: Vec<u8> = "Microsoft.Container.DataSpaces".encode_utf16().flat_map(u16::to_le_bytes).collect();
        v.extend_from_slice(&(name.len() as u32).to_le_bytes());
        v.extend_from_slice(&name);
        v.extend_from_slice(&[1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0]);
        v
    };
    cfb(vec![
        Node::Storage(
            "\u{6}DataSpaces",
            vec![Node::Stream("Version", version), Node::Stream("DataSpaceMap", vec![8, 0, 0, 0, 1, 0, 0, 0])],
        ),
        Node::Stream("EncryptionInfo", info),
        Node::Stream("EncryptedPackage", package),
    ])
}

/// One TNEF attribute: level, id (type << 16 | tag), length, data, checksum.
fn tnef_attr(out: &mut Vec<u8>, level: u8, id: u32, data: &[u8]) {
    out.push(level);
    out.extend_from_slice(&id.to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
    let sum = data.iter().fold(0u16, |a, &b| a.wrapping_add(u16::from(b)));
    out.extend_from_slice(&sum.to_le_bytes());
}

fn dtr(y: u16, mo: u16, d: u16, h: u16, mi: u16, s: u16, dow: u16) -> Vec<u8> {
    [y, mo, d, h, mi, s, dow].iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Outlook's winmail.dat: message attributes, an RTF body (uncompressed "MELA" form inside
/// PR_RTF_COMPRESSED) and one attached signature image.
pub fn tnef(subject: &str, sent: crate::util::Stamp, body_rtf: &str, image_name: &str, image: &[u8]) -> Vec<u8> {
    const MSG: u8 = 1;
    const ATT: u8 = 2;
    let mut out = vec![0x78, 0x9F, 0x3E, 0x22];
    out.extend_from_slice(&0x5A1Cu16.to_le_bytes()); // legacy key
    tnef_attr(&mut out, MSG, 0x0008_9006, &0x0001_0000u32.to_le_bytes()); // attTnefVersion
    tnef_attr(&mut out, MSG, 0x0006_9007, &[0xE4, 0x04, 0, 0, 0, 0, 0, 0]); // attOemCodepage 1252
    tnef_attr(&mut out, MSG, 0x0007_8008, b"IPM.Microsoft Mail.Note\0"); // attMessageClass
    let mut subj = cp1252(subject);
    subj.push(0);
    tnef_attr(&mut out, MSG, 0x0001_8004, &subj); // attSubject
    {
        use chrono::{Datelike, Timelike};
        let (d, t) = (sent.at.date(), sent.at.time());
        let f = |x: u32| x as u16;
        let when = dtr(
            d.year() as u16,
            f(d.month()),
            f(d.day()),
            f(t.hour()),
            f(t.minute()),
            f(t.second()),
            f(d.weekday().num_days_from_sunday()),
        );
        tnef_attr(&mut out, MSG, 0x0003_8005, &when); // attDateSent
    }
    // attMsgProps: one property, PR_RTF_COMPRESSED (0x1009, PT_BINARY).
    let rtf = body_rtf.as_bytes();
    let mut blob = Vec::new();
    blob.extend_from_slice(&(rtf.len() as u32 + 12).to_le_bytes()); // compressed size
    blob.extend_from_slice(&(rtf.len() as u32).to_le_bytes()); // raw size
    blob.extend_from_slice(&0x414C_454Du32.to_le_bytes()); // "MELA": stored uncompressed
    blob.extend_from_slice(&0u32.to_le_bytes()); // CRC (0 for MELA)
    blob.extend_from_slice(rtf);
    let mut props = Vec::new();
    props.extend_from_slice(&1u32.to_le_bytes());
    props.extend_from_slice(&0x1009_0102u32.to_le_bytes());
    props.extend_from_slice(&1u32.to_le_bytes());
    props.extend_from_slice(&(blob.len() as u32).to_le_bytes());
    props.extend_from_slice(&blob);
    while props.len() % 4 != 0 {
        props.push(0);
    }
    tnef_attr(&mut out, MSG, 0x0006_9003, &props);
    // The attachment.
    let mut rend = Vec::new();
    rend.extend_from_slice(&1u16.to_le_bytes()); // attachment type: file
    rend.extend_from_slice(&0xFFFF_FFFFu32.to_le_bytes()); // position
    rend.extend_from_slice(&0xFFFFu16.to_le_bytes());
    rend.extend_from_slice(&0xFFFFu16.to_le_bytes());
    rend.extend_from_slice(&0u32.to_le_bytes());
    tnef_attr(&mut out, ATT, 0x0006_9002, &rend); // attAttachRendData
    let mut title = cp1252(image_name);
    title.push(0);
    tnef_attr(&mut out, ATT, 0x0001_8010, &title); // attAttachTitle
    tnef_attr(&mut out, ATT, 0x0006_800F, image); // attAttachData
    out
}

/// One BIFF record: type, length, data.
fn biff(out: &mut Vec<u8>, typ: u16, data: &[u8]) {
    assert!(data.len() <= 8224, "BIFF8 records hold at most 8224 bytes");
    out.extend_from_slice(&typ.to_le_bytes());
    out.extend_from_slice(&(data.len() as u16).to_le_bytes());
    out.extend_from_slice(data);
}

fn bof(dt: u16) -> Vec<u8> {
    let mut v = Vec::new();
    for x in [0x0600u16, dt, 0x4F5A, 0x07CD] {
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.extend_from_slice(&0x0001_00C1u32.to_le_bytes());
    v.extend_from_slice(&0x0000_0606u32.to_le_bytes());
    v
}

/// A cell of a legacy workbook.
pub enum XlsCell {
    Text(String),
    Number(f64),
}

/// An Excel 97-2003 (BIFF8) workbook with one sheet, in a compound file's `Workbook` stream:
/// BOF, WRITEACCESS, CODEPAGE, BOUNDSHEET8, SST, EOF, then the sheet (BOF, DIMENSIONS,
/// LABELSST / NUMBER cells, EOF).
pub fn xls(sheet_name: &str, author: &str, cells: &[(u16, u16, XlsCell)]) -> Vec<u8> {
    let mut strings: Vec<String> = Vec::new();
    for (_, _, c) in cells {
        if let XlsCell::Text(s) = c {
            if !strings.contains(s) {
                strings.push(s.clone());
            }
        }
    }
    let mut globals = Vec::new();
    biff(&mut globals, 0x0809, &bof(0x0005));
    let mut wa = Vec::new();
    wa.extend_from_slice(&(author.len() as u16).to_le_bytes());
    wa.push(0);
    wa.extend_from_slice(author.as_bytes());
    wa.resize(112, b' ');
    biff(&mut globals, 0x005C, &wa); // WRITEACCESS
    biff(&mut globals, 0x0042, &1200u16.to_le_bytes()); // CODEPAGE: UTF-16
    let boundsheet_at = globals.len();
    let mut bs = vec![0, 0, 0, 0, 0, 0];
    bs.push(sheet_name.len() as u8);
    bs.push(0);
    bs.extend_from_slice(sheet_name.as_bytes());
    biff(&mut globals, 0x0085, &bs); // BOUNDSHEET8 (position patched below)
    let mut sst = Vec::new();
    let total = cells.iter().filter(|(_, _, c)| matches!(c, XlsCell::Text(_))).count() as u32;
    sst.extend_from_slice(&total.to_le_bytes());
    sst.extend_from_slice(&(strings.len() as u32).to_le_bytes());
    for s in &strings {
        let units: Vec<u16> = s.encode_utf16().collect();
        sst.extend_from_slice(&(units.len() as u16).to_le_bytes());
        sst.push(1); // fHighByte: UTF-16LE characters
        for u in units {
            sst.extend_from_slice(&u.to_le_bytes());
        }
    }
    biff(&mut globals, 0x00FC, &sst); // SST
    biff(&mut globals, 0x000A, &[]); // EOF
    let sheet_pos = globals.len() as u32;
    globals[boundsheet_at + 4..boundsheet_at + 8].copy_from_slice(&sheet_pos.to_le_bytes());

    let mut sheet = Vec::new();
    biff(&mut sheet, 0x0809, &bof(0x0010));
    let last_row = cells.iter().map(|c| c.0).max().unwrap_or(0);
    let last_col = cells.iter().map(|c| c.1).max().unwrap_or(0);
    let mut dim = Vec::new();
    dim.extend_from_slice(&0u32.to_le_bytes());
    dim.extend_from_slice(&(u32::from(last_row) + 1).to_le_bytes());
    dim.extend_from_slice(&0u16.to_le_bytes());
    dim.extend_from_slice(&(last_col + 1).to_le_bytes());
    dim.extend_from_slice(&0u16.to_le_bytes());
    biff(&mut sheet, 0x0200, &dim); // DIMENSIONS
    for (r, c, cell) in cells {
        let mut d = Vec::new();
        d.extend_from_slice(&r.to_le_bytes());
        d.extend_from_slice(&c.to_le_bytes());
        d.extend_from_slice(&15u16.to_le_bytes()); // the default cell XF
        match cell {
            XlsCell::Text(s) => {
                let i = strings.iter().position(|x| x == s).unwrap_or(0) as u32;
                d.extend_from_slice(&i.to_le_bytes());
                biff(&mut sheet, 0x00FD, &d); // LABELSST
            }
            XlsCell::Number(v) => {
                d.extend_from_slice(&v.to_le_bytes());
                biff(&mut sheet, 0x0203, &d); // NUMBER
            }
        }
    }
    biff(&mut sheet, 0x000A, &[]);
    globals.extend_from_slice(&sheet);
    cfb(vec![Node::Stream("Workbook", globals)])
}
