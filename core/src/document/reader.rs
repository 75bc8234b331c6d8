//! A document read in one pass: the first lookup reads every map and list
//! of it (`ReadDoc::iter`), and every field or item comes from that pass.
//!
//! `autosurgeon`'s derived `Hydrate` asks for each field of a struct, and
//! each item of a list, with a lookup of its own, and Automerge 0.12 finds
//! a key by seeking through the object's operations: reading a presence
//! month cost about ten thousand instructions a field, and re-projecting a
//! merged document was two fifths of what a device spends on each change it
//! receives. One pass reads the same values: the winner of each
//! key (a conflict's other values are not read by `get` either) and the
//! visible items of a list in their order.
//!
//! The pass itself is kept cheap, since a device makes one for every change
//! it takes: the pass hands out an object's items one after another, so
//! each object is looked up once (not once per item), its keys are borrowed
//! from the document, and a map's fields are a sorted list searched by
//! halves (documents' maps hold a handful of fields).

use std::borrow::Cow;
use std::ops::RangeBounds;
use std::sync::Arc;

use automerge::iter::DocItem;
use automerge::{AutoCommit, AutomergeError, ObjId, ObjType, Prop, Value};
use foldhash::HashMap;

/// One object's contents as a pass read them.
enum Object<'d> {
    /// By key, in key order.
    Map(Vec<(Cow<'d, str>, Value<'static>, ObjId)>),
    /// By position, in order (the position kept to sort by).
    List(Vec<(usize, Value<'static>, ObjId)>),
}

impl<'d> Object<'d> {
    /// Put items in order, should the pass have given them in another (it
    /// gives them in order; this keeps a lookup right if it ever does not).
    fn order(&mut self) {
        match self {
            Object::Map(fields) if !fields.is_sorted_by(|a, b| a.0 <= b.0) => fields.sort_by(|a, b| a.0.cmp(&b.0)),
            Object::List(items) if !items.is_sorted_by_key(|i| i.0) => items.sort_by_key(|i| i.0),
            _ => {}
        }
    }

    fn extend(&mut self, more: Object<'d>) {
        match (self, more) {
            (Object::Map(fields), Object::Map(more)) => fields.extend(more),
            (Object::List(items), Object::List(more)) => items.extend(more),
            // An object is a map or a list, never both.
            _ => {}
        }
    }
}

/// See the module documentation. Reads only; lives for one hydration.
pub(crate) struct Reader<'d> {
    doc: &'d AutoCommit,
    /// Every map and list with something in it, after the first look.
    objects: std::cell::OnceCell<HashMap<ObjId, Object<'d>>>,
}

impl<'d> Reader<'d> {
    pub(crate) fn new(doc: &'d AutoCommit) -> Self {
        Self { doc, objects: std::cell::OnceCell::new() }
    }

    /// The document's maps and lists, read in one pass over the whole
    /// document on the first look. An object that is not there (text, an
    /// empty map or list, an id of nothing) is asked of Automerge itself.
    fn objects(&self) -> &HashMap<ObjId, Object<'d>> {
        self.objects.get_or_init(|| {
            let mut objects: HashMap<ObjId, Object<'d>> = HashMap::default();
            let mut put = |obj: Arc<ObjId>, object: Object<'d>| match objects.get_mut(&*obj) {
                Some(earlier) => earlier.extend(object),
                None => {
                    objects.insert(Arc::unwrap_or_clone(obj), object);
                }
            };
            // The object whose items are coming, and what came of it so far.
            let mut current: Option<(Arc<ObjId>, Object<'d>)> = None;
            for item in automerge::ReadDoc::iter(self.doc) {
                let same = current.as_ref().is_some_and(|(obj, _)| Arc::ptr_eq(obj, &item.obj) || **obj == *item.obj);
                if !same {
                    let fresh = match item.item {
                        DocItem::Map(_) => Object::Map(Vec::new()),
                        DocItem::List(_) => Object::List(Vec::new()),
                        DocItem::Text(_) => continue,
                    };
                    if let Some((obj, object)) = current.replace((item.obj.clone(), fresh)) {
                        put(obj, object);
                    }
                }
                let Some((_, object)) = current.as_mut() else { continue };
                match (object, item.item) {
                    (Object::Map(fields), DocItem::Map(field)) => {
                        let id = field.id();
                        fields.push((field.key, Value::from(field.value), id));
                    }
                    (Object::List(items), DocItem::List(entry)) => {
                        let id = entry.id();
                        items.push((entry.index, Value::from(entry.value), id));
                    }
                    _ => {}
                }
            }
            if let Some((obj, object)) = current {
                put(obj, object);
            }
            objects.values_mut().for_each(Object::order);
            objects
        })
    }
}

impl autosurgeon::ReadDoc for Reader<'_> {
    type Parents<'a>
        = automerge::Parents<'a>
    where
        Self: 'a;

    fn get_heads(&self) -> Vec<automerge::ChangeHash> {
        autosurgeon::ReadDoc::get_heads(self.doc)
    }

    fn get<P: Into<Prop>>(&self, obj: &ObjId, prop: P) -> Result<Option<(Value<'_>, ObjId)>, AutomergeError> {
        let prop = prop.into();
        let found = match (self.objects().get(obj), &prop) {
            (Some(Object::Map(fields)), Prop::Map(key)) => {
                fields.binary_search_by(|(k, _, _)| k.as_ref().cmp(key.as_str())).ok().map(|at| (&fields[at].1, &fields[at].2))
            }
            // Positions run 0, 1, 2… once in order.
            (Some(Object::List(items)), Prop::Seq(index)) => items
                .get(*index)
                .filter(|item| item.0 == *index)
                .or_else(|| items.binary_search_by_key(index, |item| item.0).ok().map(|at| &items[at]))
                .map(|(_, value, id)| (value, id)),
            // Not read (see `objects`), or the wrong kind of key for the
            // object: as Automerge answers it.
            _ => return automerge::ReadDoc::get(self.doc, obj, prop),
        };
        Ok(found.map(|(value, id)| (value.clone(), id.clone())))
    }

    fn object_type<O: AsRef<ObjId>>(&self, obj: O) -> Option<ObjType> {
        autosurgeon::ReadDoc::object_type(self.doc, obj)
    }

    fn map_range<'a, O, R>(&'a self, obj: O, range: R) -> automerge::iter::MapRange<'a>
    where
        R: RangeBounds<String> + 'a,
        O: AsRef<ObjId>,
    {
        automerge::ReadDoc::map_range(self.doc, obj, range)
    }

    fn list_range<O: AsRef<ObjId>, R: RangeBounds<usize>>(&self, obj: O, range: R) -> automerge::iter::ListRange<'_> {
        automerge::ReadDoc::list_range(self.doc, obj, range)
    }

    fn length<O: AsRef<ObjId>>(&self, obj: O) -> usize {
        let obj = obj.as_ref();
        match self.objects().get(obj) {
            Some(Object::Map(fields)) => fields.len(),
            Some(Object::List(items)) => items.len(),
            None => automerge::ReadDoc::length(self.doc, obj),
        }
    }

    fn text<O: AsRef<ObjId>>(&self, obj: O) -> Result<String, AutomergeError> {
        automerge::ReadDoc::text(self.doc, obj)
    }

    fn parents<O: AsRef<ObjId>>(&self, obj: O) -> Result<Self::Parents<'_>, AutomergeError> {
        automerge::ReadDoc::parents(self.doc, obj)
    }

    fn is_empty(&self) -> bool {
        autosurgeon::ReadDoc::is_empty(self.doc)
    }
}

/// Read a whole document as `H`, one pass per object.
pub(crate) fn hydrate<H: autosurgeon::Hydrate>(doc: &AutoCommit) -> Result<H, autosurgeon::HydrateError> {
    autosurgeon::hydrate(&Reader::new(doc))
}

#[cfg(test)]
mod tests {
    use autosurgeon::{Hydrate, Reconcile};

    use super::*;

    #[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
    struct Month {
        person: String,
        note: Option<String>,
        events: Vec<Event>,
    }

    #[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
    struct Event {
        #[key]
        id: String,
        at: i64,
        change: Change,
    }

    #[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
    enum Change {
        In,
        Out,
        Void { event: String },
    }

    fn month(n: usize) -> Month {
        Month {
            person: "p1".into(),
            note: n.is_multiple_of(2).then(|| "a note".into()),
            events: (0..n)
                .map(|i| Event {
                    id: format!("e{i}"),
                    at: i as i64,
                    change: match i % 3 {
                        0 => Change::In,
                        1 => Change::Out,
                        _ => Change::Void { event: format!("e{}", i - 1) },
                    },
                })
                .collect(),
        }
    }

    #[test]
    fn reads_what_field_by_field_lookups_read() {
        for n in [0, 1, 5, 40] {
            let mut doc = AutoCommit::new();
            autosurgeon::reconcile(&mut doc, month(n)).unwrap();
            let by_lookups: Month = autosurgeon::hydrate(&doc).unwrap();
            assert_eq!(hydrate::<Month>(&doc).unwrap(), by_lookups);
            assert_eq!(by_lookups, month(n));
        }
    }

    #[test]
    fn a_conflict_reads_as_the_same_winner() {
        let mut a = AutoCommit::new();
        autosurgeon::reconcile(&mut a, month(3)).unwrap();
        let mut b = a.fork();
        let mut in_a = month(3);
        in_a.person = "from a".into();
        in_a.events.remove(1);
        let mut in_b = month(3);
        in_b.person = "from b".into();
        in_b.events.push(Event { id: "late".into(), at: 99, change: Change::Out });
        autosurgeon::reconcile(&mut a, &in_a).unwrap();
        autosurgeon::reconcile(&mut b, &in_b).unwrap();
        a.merge(&mut b).unwrap();
        let by_lookups: Month = autosurgeon::hydrate(&a).unwrap();
        assert_eq!(hydrate::<Month>(&a).unwrap(), by_lookups);
        assert_eq!(by_lookups.events.len(), 3, "one removed, one added");
    }

    #[test]
    fn a_missing_field_is_refused_as_before() {
        let mut doc = AutoCommit::new();
        automerge::transaction::Transactable::put(&mut doc, automerge::ROOT, "person", "p1").unwrap();
        assert!(autosurgeon::hydrate::<_, Month>(&doc).is_err());
        assert!(hydrate::<Month>(&doc).is_err());
    }

    /// An edit one replica makes to its copy.
    #[derive(Debug, Clone)]
    enum Edit {
        Person(String),
        Note(Option<String>),
        Add(i64, u8),
        Remove(usize),
        Merge(usize),
    }

    fn edit() -> impl proptest::strategy::Strategy<Value = (usize, Edit)> {
        use proptest::prelude::*;
        let edit = prop_oneof![
            "[a-c]{1,3}".prop_map(Edit::Person),
            proptest::option::of("[x-z]{1,2}").prop_map(Edit::Note),
            (0i64..100, 0u8..3).prop_map(|(at, c)| Edit::Add(at, c)),
            (0usize..8).prop_map(Edit::Remove),
            (0usize..3).prop_map(Edit::Merge),
        ];
        (0usize..3, edit)
    }

    proptest::proptest! {
        /// Random edits on three replicas, merged in any order: each copy
        /// reads the same in one pass as field by field.
        #[test]
        fn every_replica_reads_the_same_as_by_lookups(edits in proptest::collection::vec(edit(), 1..40)) {
            let mut first = AutoCommit::new();
            autosurgeon::reconcile(&mut first, month(2)).unwrap();
            let mut replicas = vec![first.fork(), first.fork(), first];
            for (n, (at, edit)) in edits.into_iter().enumerate() {
                if let Edit::Merge(from) = edit {
                    if from != at {
                        let mut other = replicas[from].fork();
                        replicas[at].merge(&mut other).unwrap();
                    }
                    continue;
                }
                let mut value: Month = autosurgeon::hydrate(&replicas[at]).unwrap();
                match edit {
                    Edit::Person(p) => value.person = p,
                    Edit::Note(note) => value.note = note,
                    Edit::Add(t, c) => value.events.push(Event {
                        id: format!("r{at}-{n}"),
                        at: t,
                        change: match c {
                            0 => Change::In,
                            1 => Change::Out,
                            _ => Change::Void { event: format!("v{n}") },
                        },
                    }),
                    Edit::Remove(i) => {
                        if !value.events.is_empty() {
                            let i = i % value.events.len();
                            value.events.remove(i);
                        }
                    }
                    Edit::Merge(_) => unreachable!(),
                }
                autosurgeon::reconcile(&mut replicas[at], &value).unwrap();
            }
            for doc in &replicas {
                let by_lookups: Month = autosurgeon::hydrate(doc).unwrap();
                proptest::prop_assert_eq!(hydrate::<Month>(doc).unwrap(), by_lookups);
            }
        }
    }
}
