//! Organizational units: the tree, paths, depth, and references to OUs.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde::Serialize;

use super::organization::Organization;
use super::{Checker, OuPath, limits, resolve_tags};
use crate::config::{self, OuLifecycle, Spanned};
use crate::rules::Rule;
use crate::suggest;

/// AWS allows OUs five levels deep below the root.
pub const MAX_OU_DEPTH: usize = 5;

/// An organizational unit, resolved.
#[derive(Debug, Clone, Serialize)]
pub struct Ou {
    /// Its path, e.g. `Workloads/Prod`.
    pub path: OuPath,
    /// Its name (the last element of the path).
    pub name: String,
    /// The pinned OU id, if any.
    pub id: Option<String>,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
    /// Whether it should exist.
    pub lifecycle: OuLifecycle,
}

pub(super) fn resolve(
    checker: &mut Checker,
    _organization: &Organization,
    tree: &IndexMap<Spanned<String>, config::OrganizationalUnit>,
) -> IndexMap<OuPath, Ou> {
    let mut ous = IndexMap::new();
    walk(checker, &OuPath::root(), tree, &mut ous);
    ous
}

fn walk(
    checker: &mut Checker,
    parent: &OuPath,
    children: &IndexMap<Spanned<String>, config::OrganizationalUnit>,
    ous: &mut IndexMap<OuPath, Ou>,
) {
    for (name, raw) in children {
        limits::check_ou_name(checker, name);
        let path = parent.child(&name.value);
        if path.depth() == MAX_OU_DEPTH + 1 {
            let diagnostic = checker
                .at(
                    Rule::OuDepth,
                    name.span,
                    format!(
                        "OU `{path}` is {} levels below the root; AWS allows at most {MAX_OU_DEPTH}",
                        path.depth()
                    ),
                    "too deep",
                )
                .help("flatten the tree: move this OU (and its children) up a level, or express the distinction with tags");
            checker.push(diagnostic);
        }
        if let Some(id) = &raw.id {
            limits::check_ou_id(checker, id);
        }
        let tags = resolve_tags(checker, &raw.tags, name.span, &format!("OU `{path}`"));
        ous.insert(
            path.clone(),
            Ou {
                path: path.clone(),
                name: name.value.clone(),
                id: raw.id.as_ref().map(|id| id.value.clone()),
                tags,
                lifecycle: raw.lifecycle.value,
            },
        );
        walk(checker, &path, &raw.children, ous);
    }
}

/// Resolves a reference to an OU path, reporting an unknown one with the closest known path.
pub(super) fn resolve_reference(
    checker: &mut Checker,
    ous: &IndexMap<OuPath, Ou>,
    reference: &Spanned<String>,
    context: &str,
) -> Option<OuPath> {
    let path = OuPath::parse(&reference.value);
    if ous.contains_key(&path) {
        return Some(path);
    }
    let diagnostic = checker
        .at(
            Rule::UnknownOu,
            reference.span,
            format!(
                "{context} names the OU `{}`, which the file does not declare",
                reference.value
            ),
            "no such OU",
        )
        .help(unknown_ou_help(ous, &reference.value));
    checker.push(diagnostic);
    None
}

/// The help for an unknown OU: a likely typo, a missing child, a bare name, or the OUs there are.
pub(super) fn unknown_ou_help(ous: &IndexMap<OuPath, Ou>, written: &str) -> String {
    let wanted = OuPath::parse(written);
    let paths = ous.keys().map(OuPath::as_str);
    if let Some(candidate) = suggest::closest(wanted.as_str(), paths.clone()) {
        return format!("did you mean `{candidate}`?");
    }
    if let Some((parent, child)) = wanted.as_str().rsplit_once('/')
        && ous.contains_key(&OuPath::parse(parent))
    {
        return format!(
            "`{parent}` has no child `{child}`: declare it under the `children` of `{parent}`"
        );
    }
    // A bare name that is the last element of exactly one path.
    let by_name: Vec<&str> = paths
        .clone()
        .filter(|path| path.rsplit('/').next() == Some(written))
        .collect();
    if let [only] = by_name.as_slice() {
        return format!(
            "did you mean `{only}`? OUs are referenced by their full path from the root"
        );
    }
    let known: Vec<&str> = paths.take(6).collect();
    match known.as_slice() {
        [] => "declare it under `organizational_units`".to_owned(),
        [only] => format!("declare it under `organizational_units`, or use `{only}`"),
        _ => format!(
            "declare it under `organizational_units`, or use one of {}{}",
            suggest::list(&known),
            if ous.len() > known.len() { ", …" } else { "" }
        ),
    }
}
