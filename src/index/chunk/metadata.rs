//! Chunk metadata: the calls and import references inside each chunk, found
//! by walking the tree from mark to mark.

use std::borrow::Cow;
use std::collections::HashSet;

use tree_sitter::{Node, TreeCursor};

use super::imports::{FnvBuild, Imports};
use super::marks::Marks;
use super::syntax::{Field, Kind, Reader};
use super::{ChunkError, ChunkMetadata, ImportRef, MAX_CALLS};

/// Longer callee texts are chains or inline functions (`(function () {...})()`),
/// not names anyone searches for.
const MAX_CALLEE_BYTES: usize = 128;

/// Where a chunk is, as the walk needs it: its bytes, and a node whose
/// subtree holds them.
#[derive(Clone, Copy)]
pub(super) struct Region<'t> {
    pub(super) root: Node<'t>,
    pub(super) range: (usize, usize),
}

/// Computes chunk metadata by walking the tree.
pub(super) struct MetadataWalker<'a, 's> {
    pub(super) read: Reader<'a, 's>,
    pub(super) imports: &'a Imports<'s>,
    pub(super) marks: &'a Marks,
}

impl<'s> MetadataWalker<'_, 's> {
    /// The metadata of every chunk, in order. The regions nest or are
    /// disjoint, sorted by start. Each outermost one is walked once, and what
    /// is found is credited to every region around it: a class and its
    /// methods share one walk.
    pub(super) fn nested(&self, regions: &[Region]) -> Result<Vec<Gathered<'s>>, ChunkError> {
        let ranges: Vec<(usize, usize)> = regions.iter().map(|r| r.range).collect();
        let mut credit = Credit::new(&ranges);
        let mut path = None;
        let mut outer_end = 0;
        for (region, &(start, end)) in regions.iter().zip(&ranges) {
            if start < outer_end {
                continue;
            }
            outer_end = end;
            let path = Path::at(&mut path, region.root);
            self.walk(path, (start, end), &mut credit)?;
        }
        Ok(credit.gathered)
    }

    /// What the given nodes hold, together.
    pub(super) fn flat(&self, nodes: &[Node]) -> Result<Gathered<'s>, ChunkError> {
        let everything = [(0, usize::MAX)];
        let mut credit = Credit::new(&everything);
        let mut path = None;
        for node in nodes {
            let range = (node.start_byte(), node.end_byte());
            self.walk(Path::at(&mut path, *node), range, &mut credit)?;
        }
        Ok(credit.gathered.pop().unwrap_or_default())
    }

    /// Visits the leaf under each mark in `start..end`, in order, with a
    /// cursor (from the path's root) that only moves forward: no recursion,
    /// and the code between marks is skipped whole.
    fn walk(
        &self,
        path: &mut Path,
        (start, end): (usize, usize),
        credit: &mut Credit<'_, 's>,
    ) -> Result<(), ChunkError> {
        let mut last_leaf = None;
        for &mark in self.marks.within(start, end) {
            let Some(leaf) = path.seek(mark) else {
                continue;
            };
            // A word marked byte by byte is one leaf: look at it once.
            if last_leaf == Some(leaf.id()) {
                continue;
            }
            last_leaf = Some(leaf.id());
            credit.reach(mark);
            self.visit(leaf, mark, path, credit)?;
        }
        Ok(())
    }

    /// What the leaf under a mark is: the `(` of a call's arguments, the
    /// backtick of a tagged template, the `new` of a `new` expression, or a
    /// name that may be an import.
    fn visit(
        &self,
        leaf: Node,
        mark: usize,
        path: &Path,
        credit: &mut Credit<'_, 's>,
    ) -> Result<(), ChunkError> {
        let kind = self.read.kind(leaf);
        if kind.is_reference() {
            if let Some(index) = self.imports.lookup(self.read.text(leaf)?.as_bytes()) {
                credit.import(index, self.imports);
            }
            return Ok(());
        }
        let (Some(parent), Some(grandparent)) = (path.ancestor(1), path.ancestor(2)) else {
            return Ok(());
        };
        if parent.start_byte() != mark {
            return Ok(());
        }
        match (self.read.kind(parent), self.read.kind(grandparent)) {
            (Kind::NewExpression, _) => self.new_expression(parent, credit),
            (Kind::Arguments | Kind::TemplateString, Kind::CallExpression)
                if self.read.field(grandparent, Field::Arguments) == Some(parent) =>
            {
                self.call(grandparent, credit)
            }
            _ => Ok(()),
        }
    }

    fn call(&self, call: Node, credit: &mut Credit<'_, 's>) -> Result<(), ChunkError> {
        if let Some(callee) = self.read.field(call, Field::Function)
            && let Some(text) = callee_text(self.read.text(callee)?)
        {
            credit.call(text);
        }
        Ok(())
    }

    fn new_expression(&self, new: Node, credit: &mut Credit<'_, 's>) -> Result<(), ChunkError> {
        if let Some(class) = self.read.field(new, Field::Constructor)
            && let Some(text) = callee_text(self.read.text(class)?)
        {
            credit.call(Cow::Owned(format!("new {text}")));
        }
        Ok(())
    }
}

/// A tree cursor and the nodes from its root down to where it is, moving
/// forward through the text. Moving to a later byte climbs only as far as
/// needed, steps over siblings, then descends: each node is entered at most
/// once, so a walk costs the nodes on the way to its marks, not the subtree.
struct Path<'t> {
    cursor: TreeCursor<'t>,
    /// (node, its end byte), root first.
    nodes: Vec<(Node<'t>, usize)>,
}

impl<'t> Path<'t> {
    /// The path in `slot`, reset to start at `root`: one cursor and one
    /// buffer serve all the walks of a file.
    fn at<'p>(slot: &'p mut Option<Path<'t>>, root: Node<'t>) -> &'p mut Path<'t> {
        let path = slot.get_or_insert_with(|| Path {
            cursor: root.walk(),
            nodes: Vec::new(),
        });
        path.cursor.reset(root);
        path.nodes.clear();
        path.nodes.push((root, root.end_byte()));
        path
    }

    /// The node `generations` above the current one.
    fn ancestor(&self, generations: usize) -> Option<Node<'t>> {
        let index = self.nodes.len().checked_sub(generations + 1)?;
        self.nodes.get(index).map(|(node, _)| *node)
    }

    /// Moves to the leaf holding byte `target` (which must not be before
    /// the current node), or returns None if no leaf does.
    fn seek(&mut self, target: usize) -> Option<Node<'t>> {
        self.climb(target);
        if !self.step_over(target) {
            return None;
        }
        self.descend(target)
    }

    /// Up while the parent ends before `target`: its remaining children,
    /// and the current node's, are never looked at.
    fn climb(&mut self, target: usize) {
        while self.nodes.len() > 1
            && self
                .nodes
                .get(self.nodes.len() - 2)
                .is_some_and(|&(_, end)| end <= target)
            && self.cursor.goto_parent()
        {
            self.nodes.pop();
        }
    }

    /// Sideways to the sibling that ends after `target`; false if none does.
    fn step_over(&mut self, target: usize) -> bool {
        loop {
            let Some(&(_, end)) = self.nodes.last() else {
                return false;
            };
            if end > target {
                return true;
            }
            if self.nodes.len() == 1 || !self.cursor.goto_next_sibling() {
                return false;
            }
            let node = self.cursor.node();
            if let Some(last) = self.nodes.last_mut() {
                *last = (node, node.end_byte());
            }
        }
    }

    /// Down through the children holding `target` to a leaf.
    fn descend(&mut self, target: usize) -> Option<Node<'t>> {
        while self.cursor.goto_first_child_for_byte(target).is_some() {
            let node = self.cursor.node();
            self.nodes.push((node, node.end_byte()));
        }
        let (leaf, _) = *self.nodes.last()?;
        (leaf.start_byte() <= target).then_some(leaf)
    }
}

/// Credits what the walk finds to every chunk whose range holds it. Chunks
/// nest or are disjoint, and the walk moves forward through the text, so
/// the chunks around the current node form a stack.
struct Credit<'r, 's> {
    ranges: &'r [(usize, usize)],
    gathered: Vec<Gathered<'s>>,
    open: Vec<usize>,
    next: usize,
}

impl<'r, 's> Credit<'r, 's> {
    fn new(ranges: &'r [(usize, usize)]) -> Self {
        Credit {
            ranges,
            gathered: ranges.iter().map(|_| Gathered::default()).collect(),
            open: Vec::new(),
            next: 0,
        }
    }

    /// The walk is at `position`: open the chunks started by now, close the
    /// ones that ended.
    fn reach(&mut self, position: usize) {
        while let Some(&(start, _)) = self.ranges.get(self.next)
            && start <= position
        {
            self.close_before(start);
            self.open.push(self.next);
            self.next += 1;
        }
        self.close_before(position);
    }

    fn close_before(&mut self, position: usize) {
        while let Some(&top) = self.open.last()
            && self.ranges.get(top).is_none_or(|&(_, end)| end <= position)
        {
            self.open.pop();
        }
    }

    fn call(&mut self, callee: Cow<'s, str>) {
        for &index in &self.open {
            if let Some(gathered) = self.gathered.get_mut(index) {
                gathered.call(callee.clone());
            }
        }
    }

    fn import(&mut self, index: usize, imports: &Imports) {
        for &open in &self.open {
            if let Some(gathered) = self.gathered.get_mut(open) {
                gathered.import(index, imports);
            }
        }
    }
}

/// One chunk's calls and imports, in order of first appearance.
#[derive(Default)]
pub(super) struct Gathered<'s> {
    calls: Vec<Cow<'s, str>>,
    seen_calls: HashSet<Cow<'s, str>, FnvBuild>,
    imports: Vec<ImportRef>,
    import_indexes: Vec<usize>,
}

/// Below this many distinct calls a scan finds duplicates faster than a
/// hash set, and most chunks stay below it.
const CALLS_WITHOUT_SET: usize = 16;

impl<'s> Gathered<'s> {
    fn call(&mut self, callee: Cow<'s, str>) {
        if self.calls.len() >= MAX_CALLS {
            return;
        }
        if self.calls.len() < CALLS_WITHOUT_SET {
            if !self.calls.contains(&callee) {
                self.calls.push(callee);
            }
            return;
        }
        if self.seen_calls.is_empty() {
            self.seen_calls.extend(self.calls.iter().cloned());
        }
        if self.seen_calls.insert(callee.clone()) {
            self.calls.push(callee);
        }
    }

    fn import(&mut self, index: usize, imports: &Imports) {
        // A chunk refers to few distinct imports: a scan beats a set.
        if self.import_indexes.contains(&index) {
            return;
        }
        if let Some(import) = imports.refs.get(index) {
            self.import_indexes.push(index);
            self.imports.push(import.clone());
        }
    }

    pub(super) fn into_metadata(self, exported: bool) -> ChunkMetadata {
        ChunkMetadata {
            exported,
            imports: self.imports,
            calls: self.calls.into_iter().map(Cow::into_owned).collect(),
        }
    }
}

/// A callee as written, with line breaks of a call chain (`promise\n  .then`)
/// removed so it reads as one expression.
fn callee_text(raw: &str) -> Option<Cow<'_, str>> {
    if raw.len() > MAX_CALLEE_BYTES {
        None
    } else if raw.contains('\n') {
        Some(Cow::Owned(raw.lines().map(str::trim).collect()))
    } else {
        Some(Cow::Borrowed(raw))
    }
}
