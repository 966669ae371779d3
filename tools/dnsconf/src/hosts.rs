//! Splice the berth block into a hosts file: replace it where it is, append it
//! when absent, cut it out on uninstall. Every byte outside the block is kept,
//! so install, reinstall and uninstall give back the original file.

use anyhow::bail;

use crate::generate::{BEGIN, END};

/// Written inside the block when dnsconf had to end the file's last line
/// before appending, so uninstall can take that newline back out.
const ADDED_NEWLINE: &str = "# dnsconf: ended the line above with a newline\n";

/// Where the block sits in a file: byte offsets of its first and past its last line.
fn find_block(text: &str) -> anyhow::Result<Option<(usize, usize)>> {
    let mut begin = None;
    let mut found = None;
    let mut offset = 0;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        let bare = line.trim_end_matches(['\n', '\r']);
        if bare.starts_with(BEGIN) {
            if begin.is_some() || found.is_some() {
                bail!("line {}: a second '{BEGIN}' marker", n + 1);
            }
            begin = Some(offset);
        } else if bare.starts_with(END) {
            match begin.take() {
                Some(b) => found = Some((b, offset + line.len())),
                None => bail!("line {}: '{END}' without '{BEGIN}' before it", n + 1),
            }
        }
        offset += line.len();
    }
    if begin.is_some() {
        bail!("'{BEGIN}' without '{END}' after it");
    }
    Ok(found)
}

/// Whether the file holds a berth block.
pub fn has_block(text: &str) -> anyhow::Result<bool> {
    Ok(find_block(text)?.is_some())
}

/// The file with `block` in place of the old one, or appended when there was
/// none. `block` must end with a newline and start with the begin marker.
pub fn install(text: &str, block: &str) -> anyhow::Result<String> {
    if let Some((start, end)) = find_block(text)? {
        let old = &text[start..end];
        // Keep the note about an added newline: it belongs to the original file's shape.
        let block = if old.contains(ADDED_NEWLINE) {
            with_note(block)
        } else {
            block.to_owned()
        };
        return Ok(format!("{}{block}{}", &text[..start], &text[end..]));
    }
    if text.is_empty() || text.ends_with('\n') {
        Ok(format!("{text}{block}"))
    } else {
        Ok(format!("{text}\n{}", with_note(block)))
    }
}

/// The file without the block (unchanged when there is none).
pub fn uninstall(text: &str) -> anyhow::Result<String> {
    let Some((start, end)) = find_block(text)? else {
        return Ok(text.to_owned());
    };
    let mut before = &text[..start];
    if text[start..end].contains(ADDED_NEWLINE) && end == text.len() {
        before = before.strip_suffix('\n').unwrap_or(before);
    }
    Ok(format!("{before}{}", &text[end..]))
}

fn with_note(block: &str) -> String {
    match block.split_once('\n') {
        Some((first, rest)) => format!("{first}\n{ADDED_NEWLINE}{rest}"),
        None => block.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(body: &str) -> String {
        format!("{BEGIN}\n{body}{END}\n")
    }

    #[test]
    fn install_reinstall_uninstall_round_trip() {
        for original in [
            "",
            "127.0.0.1 localhost\n",
            "127.0.0.1 localhost\n# no newline at end",
            "a\n\n\n",
        ] {
            let once = install(original, &block("127.0.0.1\ta.test\n")).unwrap();
            let twice = install(&once, &block("127.0.0.1\ta.test\n")).unwrap();
            assert_eq!(once, twice, "{original:?}");
            let changed = install(&twice, &block("127.0.0.1\tb.test\n")).unwrap();
            assert_eq!(changed.matches(BEGIN).count(), 1);
            assert!(changed.contains("b.test") && !changed.contains("a.test"));
            assert_eq!(uninstall(&changed).unwrap(), original, "{original:?}");
        }
    }

    #[test]
    fn block_in_the_middle_is_replaced_in_place() {
        let text = format!("head\n{}tail\n", block("old\n"));
        let new = install(&text, &block("new\n")).unwrap();
        assert_eq!(new, format!("head\n{}tail\n", block("new\n")));
        assert_eq!(uninstall(&new).unwrap(), "head\ntail\n");
    }

    #[test]
    fn broken_markers_are_refused() {
        for bad in [
            format!("{BEGIN}\nx\n"),
            format!("x\n{END}\n"),
            format!("{}{}", block(""), block("")),
        ] {
            assert!(install(&bad, &block("")).is_err(), "{bad}");
            assert!(uninstall(&bad).is_err(), "{bad}");
        }
    }
}
