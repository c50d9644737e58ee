//! The README's list of supported commands is generated from the command table; this test
//! fails when they drift apart and prints the block to paste. `UPDATE_README=1 cargo test
//! --test readme` writes the block into the README instead.

use cachegate_storage::command::CommandTable;

const BEGIN: &str = "<!-- commands:begin -->\n";
const END: &str = "<!-- commands:end -->";

/// The markdown table of every command, by group, as the README carries it.
fn command_list() -> String {
    let table = CommandTable::new();
    let mut groups: Vec<(&str, Vec<String>)> = Vec::new();
    for &id in table.top_level() {
        let spec = table.spec(id);
        let mut name = spec.name.to_ascii_uppercase();
        let mut subs: Vec<String> = table
            .subcommands(id)
            .map(|s| table.spec(s).name.to_ascii_uppercase())
            .collect();
        subs.sort();
        if !subs.is_empty() {
            name = format!("{name} ({})", subs.join(", "));
        }
        let group = spec.docs.group.name();
        match groups.iter_mut().find(|(g, _)| *g == group) {
            Some((_, names)) => names.push(name),
            None => groups.push((group, vec![name])),
        }
    }
    let mut out = String::from("| group | commands |\n|---|---|\n");
    for (group, mut names) in groups {
        names.sort();
        out.push_str(&format!("| {group} | {} |\n", names.join(", ")));
    }
    out
}

#[test]
fn readme_lists_every_command() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let start = readme
        .find(BEGIN)
        .expect("README has the commands:begin marker")
        + BEGIN.len();
    let end = readme
        .find(END)
        .expect("README has the commands:end marker");
    let want = command_list();
    if std::env::var_os("UPDATE_README").is_some() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
        let updated = format!("{}{}{}", &readme[..start], want, &readme[end..]);
        std::fs::write(path, updated).expect("README.md is writable");
        return;
    }
    assert_eq!(
        &readme[start..end],
        want,
        "README command list is out of date; replace the block between the markers with:\n{want}"
    );
}
