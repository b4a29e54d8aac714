//! Identity keys and the identity map: one instance per (model, primary key) per session
//! (SQLAlchemy's `orm/identity.py`).

use super::state::{Erased, Instance, Meta};
use crate::model::Model;
use athanor_core::engine::FastState;
use athanor_core::error::{Error, Result};
use athanor_core::schema::TableDef;
use athanor_core::value::{Value, ValueRef};
use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::rc::Rc;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyPart {
    Int(i64),
    Bool(bool),
    Text(Box<str>),
    Decimal(Box<str>),
    Bytes(Box<[u8]>),
}

impl KeyPart {
    pub(super) fn from_value(v: ValueRef<'_>, table: &TableDef, col: usize) -> Result<KeyPart> {
        Ok(match v {
            ValueRef::I16(_) | ValueRef::I32(_) | ValueRef::I64(_) => KeyPart::Int(v.as_i64().unwrap_or_default()),
            ValueRef::U64(u) => KeyPart::Int(i64::try_from(u).map_err(|_| {
                Error::invalid_request(format!(
                    "primary key {}: u64 {u} is beyond i64::MAX, which no column stores",
                    table.name
                ))
            })?),
            ValueRef::Bool(b) => KeyPart::Bool(b),
            ValueRef::Text(s) => KeyPart::Text(s.into()),
            ValueRef::Decimal(s) => KeyPart::Decimal(s.into()),
            ValueRef::Blob(b) => KeyPart::Bytes(b.into()),
            ValueRef::Null => {
                return Err(Error::invalid_request(format!(
                    "primary key column {}.{} is NULL",
                    table.name,
                    table.columns.get(col).map_or("?", |c| c.name)
                )))
            }
            ValueRef::F32(_) | ValueRef::F64(_) => {
                return Err(Error::invalid_request(format!(
                    "floating-point primary keys are not supported ({})",
                    table.name
                )))
            }
            // A row gives a timestamp as text, an object as an instant: they would not match.
            ValueRef::Timestamp(_) | ValueRef::Date(_) | ValueRef::DateTime(_) | ValueRef::Time(_) => {
                return Err(Error::invalid_request(format!(
                    "date and time primary keys are not supported ({})",
                    table.name
                )))
            }
            // A row gives a decimal as text, an object as its value: they would not match.
            ValueRef::Computed(_) => {
                return Err(Error::invalid_request(format!(
                    "decimal and JSON primary keys are not supported ({})",
                    table.name
                )))
            }
        })
    }

    pub(super) fn as_value_ref(&self) -> ValueRef<'_> {
        match self {
            KeyPart::Int(i) => ValueRef::I64(*i),
            KeyPart::Bool(b) => ValueRef::Bool(*b),
            KeyPart::Text(s) => ValueRef::Text(s),
            KeyPart::Decimal(s) => ValueRef::Decimal(s),
            KeyPart::Bytes(b) => ValueRef::Blob(b),
        }
    }
}

/// A primary-key value identifying one row of one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Key {
    One(KeyPart),
    Many(Box<[KeyPart]>),
}

// By hand: an integer key is hashed as one integer write (no discriminants), which the identity
// map's hasher turns into a single multiply. Equal keys still hash equally.
impl Hash for KeyPart {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            KeyPart::Int(i) => state.write_i64(*i),
            KeyPart::Bool(b) => state.write_u8(u8::from(*b)),
            KeyPart::Text(s) | KeyPart::Decimal(s) => s.hash(state),
            KeyPart::Bytes(b) => b.hash(state),
        }
    }
}

impl Hash for Key {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            Key::One(p) => p.hash(state),
            Key::Many(ps) => ps.iter().for_each(|p| p.hash(state)),
        }
    }
}

impl Key {
    pub(super) fn parts(&self) -> &[KeyPart] {
        match self {
            Key::One(p) => std::slice::from_ref(p),
            Key::Many(ps) => ps,
        }
    }

    pub(super) fn params(&self) -> impl Iterator<Item = ValueRef<'_>> {
        self.parts().iter().map(KeyPart::as_value_ref)
    }

    pub(super) fn build<'a>(table: &TableDef, mut cell: impl FnMut(usize) -> Result<ValueRef<'a>>) -> Result<Key> {
        let mut pk = table.primary_key();
        let first =
            pk.next().ok_or_else(|| Error::invalid_request(format!("table {} has no primary key", table.name)))?;
        let p0 = KeyPart::from_value(cell(first)?, table, first)?;
        match pk.next() {
            None => Ok(Key::One(p0)),
            Some(second) => {
                let mut parts = vec![p0, KeyPart::from_value(cell(second)?, table, second)?];
                for i in pk {
                    parts.push(KeyPart::from_value(cell(i)?, table, i)?);
                }
                Ok(Key::Many(parts.into_boxed_slice()))
            }
        }
    }

    pub(super) fn of_model<M: Model>(m: &M) -> Result<Key> {
        Key::build(M::TABLE, |i| Ok(m.column_value(i)))
    }

    pub(super) fn from_values(values: &[Value], table: &TableDef) -> Result<Key> {
        let n = table.primary_key().count();
        if values.len() != n {
            return Err(Error::invalid_request(format!(
                "table {} has a primary key of {n} column(s); {} value(s) given",
                table.name,
                values.len()
            )));
        }
        // `build` asks for the key's columns in order: the n-th call is the n-th value.
        let mut next = values.iter();
        Key::build(table, |_| Ok(next.next().map_or(ValueRef::Null, Value::as_ref)))
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(")?;
        for (i, p) in self.parts().iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}", p.as_value_ref())?;
        }
        f.write_str(")")
    }
}

/// A primary-key value given to `Session::get`: a scalar for a one-column key, a tuple for a
/// composite key, in the order of the key's columns.
pub trait IntoPrimaryKey {
    /// The key's values.
    fn into_key_values(self) -> Vec<Value>;
}

macro_rules! scalar_key {
    ($($t:ty),*) => {$(
        impl IntoPrimaryKey for $t {
            fn into_key_values(self) -> Vec<Value> { vec![Value::from(self)] }
        }
    )*};
}
scalar_key!(i16, i32, i64, u8, u16, u32, bool, String, &str, Vec<u8>, Value);
#[cfg(feature = "uuid")]
scalar_key!(uuid::Uuid);

impl<A: Into<Value>, B: Into<Value>> IntoPrimaryKey for (A, B) {
    fn into_key_values(self) -> Vec<Value> {
        vec![self.0.into(), self.1.into()]
    }
}
impl<A: Into<Value>, B: Into<Value>, C: Into<Value>> IntoPrimaryKey for (A, B, C) {
    fn into_key_values(self) -> Vec<Value> {
        vec![self.0.into(), self.1.into(), self.2.into()]
    }
}
/// The `Option` of a generated key (`Option<i64>` of `#[column(primary_key)] id: Option<i64>`):
/// `None` is a NULL key, which `Session::get` answers with `Ok(None)` without SQL.
impl<T: IntoPrimaryKey> IntoPrimaryKey for Option<T> {
    fn into_key_values(self) -> Vec<Value> {
        match self {
            Some(k) => k.into_key_values(),
            None => vec![Value::Null],
        }
    }
}
impl IntoPrimaryKey for Vec<Value> {
    fn into_key_values(self) -> Vec<Value> {
        self
    }
}

pub(super) trait AnyMap {
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
    fn remove(&mut self, key: &Key);
    fn for_each_meta(&self, f: &mut dyn FnMut(&RefCell<Meta>));
    fn len(&self) -> usize;
    fn table(&self) -> &'static TableDef;
    fn get_erased(&self, key: &Key) -> Option<Rc<dyn Erased>>;
    fn for_each_instance(&self, f: &mut dyn FnMut(&dyn Erased));
}

/// The objects of one model type by primary key.
///
/// The instances sit in a slab in the order they arrived and the hash map holds only their
/// positions, so visiting every object (expiring them at commit) and dropping the session walk
/// memory in allocation order rather than in hash order.
pub(super) struct TypedMap<M: Model> {
    pub(super) index: HashMap<Key, usize, FastState>,
    pub(super) slots: Vec<Option<Rc<Instance<M>>>>,
    pub(super) free: Vec<usize>,
}

pub(super) fn identity_invariant() -> Error {
    Error::invalid_request("identity map invariant broken: a key points to an empty slot")
}

impl<M: Model> TypedMap<M> {
    pub(super) fn new() -> Self {
        TypedMap { index: HashMap::default(), slots: Vec::new(), free: Vec::new() }
    }

    pub(super) fn get(&self, key: &Key) -> Option<&Rc<Instance<M>>> {
        self.index.get(key).and_then(|&i| self.slots.get(i)).and_then(Option::as_ref)
    }

    pub(super) fn contains_key(&self, key: &Key) -> bool {
        self.index.contains_key(key)
    }

    pub(super) fn place(
        slots: &mut Vec<Option<Rc<Instance<M>>>>,
        free: &mut Vec<usize>,
        inst: Rc<Instance<M>>,
    ) -> usize {
        match free.pop() {
            Some(i) => {
                slots[i] = Some(inst);
                i
            }
            None => {
                slots.push(Some(inst));
                slots.len() - 1
            }
        }
    }

    /// Put `inst` under `key`, replacing what was there.
    pub(super) fn insert(&mut self, key: Key, inst: Rc<Instance<M>>) {
        let TypedMap { index, slots, free } = self;
        match index.entry(key) {
            Entry::Occupied(e) => slots[*e.get()] = Some(inst),
            Entry::Vacant(e) => {
                e.insert(Self::place(slots, free, inst));
            }
        }
    }

    /// The instance under `key`, or a new one made by `make` (which is given the key) and put
    /// there; the flag says it is new. One hash probe either way.
    pub(super) fn get_or_try_insert(
        &mut self,
        key: Key,
        make: impl FnOnce(&Key) -> Result<Rc<Instance<M>>>,
    ) -> Result<(&Rc<Instance<M>>, bool)> {
        let TypedMap { index, slots, free } = self;
        let (at, new) = match index.entry(key) {
            Entry::Occupied(e) => (*e.get(), false),
            Entry::Vacant(e) => {
                let inst = make(e.key())?;
                (*e.insert(Self::place(slots, free, inst)), true)
            }
        };
        match slots.get(at) {
            Some(Some(inst)) => Ok((inst, new)),
            _ => Err(identity_invariant()),
        }
    }
}

impl<M: Model> AnyMap for TypedMap<M> {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
    fn remove(&mut self, key: &Key) {
        if let Some(i) = self.index.remove(key) {
            self.slots[i] = None;
            self.free.push(i);
        }
    }
    fn for_each_meta(&self, f: &mut dyn FnMut(&RefCell<Meta>)) {
        self.slots.iter().flatten().for_each(|i| f(&i.meta));
    }
    fn len(&self) -> usize {
        self.index.len()
    }
    fn table(&self) -> &'static TableDef {
        M::TABLE
    }
    fn get_erased(&self, key: &Key) -> Option<Rc<dyn Erased>> {
        self.get(key).map(|i| i.clone() as Rc<dyn Erased>)
    }
    fn for_each_instance(&self, f: &mut dyn FnMut(&dyn Erased)) {
        self.slots.iter().flatten().for_each(|i| f(&**i));
    }
}

#[derive(Default)]
pub(super) struct IdentityMap {
    pub(super) by_type: HashMap<TypeId, Box<dyn AnyMap>, FastState>,
}

impl IdentityMap {
    pub(super) fn typed<M: Model>(&self) -> Option<&TypedMap<M>> {
        self.by_type.get(&TypeId::of::<M>()).and_then(|m| m.as_any().downcast_ref::<TypedMap<M>>())
    }

    pub(super) fn typed_mut<M: Model>(&mut self) -> &mut TypedMap<M> {
        let entry = self.by_type.entry(TypeId::of::<M>()).or_insert_with(|| {
            // The session meets this model for the first time: its relationships' targets can be
            // loaded from here on.
            super::loaders::ensure::<M>();
            Box::new(TypedMap::<M>::new())
        });
        if !entry.as_any().is::<TypedMap<M>>() {
            *entry = Box::new(TypedMap::<M>::new());
        }
        // Invariant: the map stored under TypeId::of::<M>() is a TypedMap<M> (checked just above).
        entry.as_any_mut().downcast_mut::<TypedMap<M>>().expect("identity map type invariant")
    }

    pub(super) fn remove(&mut self, ty: TypeId, key: &Key) {
        if let Some(m) = self.by_type.get_mut(&ty) {
            m.remove(key);
        }
    }

    /// Visit every object's bookkeeping without collecting the objects.
    pub(super) fn for_each_meta(&self, mut f: impl FnMut(&RefCell<Meta>)) {
        self.by_type.values().for_each(|m| m.for_each_meta(&mut f));
    }

    pub(super) fn len(&self) -> usize {
        self.by_type.values().map(|m| m.len()).sum()
    }

    /// The instance of model type `ty` under `key`, whatever its type.
    pub(super) fn get_erased(&self, ty: TypeId, key: &Key) -> Option<Rc<dyn Erased>> {
        self.by_type.get(&ty).and_then(|m| m.get_erased(key))
    }

    /// Put every relationship field of every object of a model with relationships back to
    /// "not loaded" (after a rollback, as SQLAlchemy expires them; when the session closes, to
    /// break the reference cycles a two-way graph makes).
    pub(super) fn reset_relationships(&self) {
        for m in self.by_type.values() {
            m.for_each_instance(&mut |i| reset_relationships(i));
        }
    }
}

/// Put an object's relationship fields back to "not loaded" (if it is not borrowed).
pub(super) fn reset_relationships(i: &dyn Erased) {
    for idx in 0..i.relationships().len() {
        let _ = i.with_relation_mut(idx, &mut |r| {
            r.reset();
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::ObjectState;
    use athanor_core::schema::ColumnDef;
    use athanor_core::value::FromValue;
    use athanor_core::value::SqlType;
    use std::collections::HashSet;
    use std::hash::BuildHasher;
    use std::rc::Weak;

    struct Thing {
        id: i64,
    }

    static COLUMNS: [ColumnDef; 1] = [ColumnDef { primary_key: true, ..ColumnDef::new("id", SqlType::BigInt) }];
    static THINGS: TableDef = TableDef { name: "things", rust_name: "Thing", columns: &COLUMNS };

    impl Model for Thing {
        const TABLE: &'static TableDef = &THINGS;
        fn column_value(&self, _idx: usize) -> ValueRef<'_> {
            ValueRef::I64(self.id)
        }
        fn from_row(row: &dyn athanor_core::row::Row) -> Result<Self> {
            Ok(Thing { id: i64::from_value(row.get(0)?)? })
        }
        fn set_generated_key(&mut self, key: i64) -> Result<()> {
            self.id = key;
            Ok(())
        }
    }

    fn thing(id: i64) -> Rc<Instance<Thing>> {
        let meta = Meta {
            state: ObjectState::Persistent,
            key: Some(int(id)),
            expired: false,
            listed_modified: false,
            editing: false,
            session: Weak::new(),
            exprs: Default::default(),
            origin: 0,
        };
        Rc::new(Instance::new(Thing { id }, meta))
    }

    fn int(i: i64) -> Key {
        Key::One(KeyPart::Int(i))
    }

    #[test]
    fn identity_map_finds_replaces_removes_and_reuses_slots() {
        let mut m = TypedMap::<Thing>::new();
        for i in 0..100 {
            m.insert(int(i), thing(i));
        }
        assert_eq!(AnyMap::len(&m), 100);
        assert_eq!(m.get(&int(42)).map(|t| t.value.borrow().id), Some(42));
        AnyMap::remove(&mut m, &int(7));
        assert!(m.get(&int(7)).is_none() && !m.contains_key(&int(7)));
        m.insert(int(1000), thing(1000));
        assert_eq!(m.slots.len(), 100, "the freed slot is reused");
        m.insert(int(1000), thing(1000));
        assert_eq!(AnyMap::len(&m), 100, "inserting an existing key replaces it");
        let (found, new) = m.get_or_try_insert(int(5), |_| Err(Error::invalid_request("not called"))).unwrap();
        assert!(!new && found.value.borrow().id == 5);
        let (made, new) =
            m.get_or_try_insert(int(5000), |k| Ok(thing(if *k == int(5000) { 5000 } else { 0 }))).unwrap();
        assert!(new && made.value.borrow().id == 5000);
        assert!(m.get_or_try_insert(int(6000), |_| Err(Error::invalid_request("no row"))).is_err());
        assert!(!m.contains_key(&int(6000)), "a failed insert leaves nothing behind");
        let mut seen = 0;
        AnyMap::for_each_meta(&m, &mut |_| seen += 1);
        assert_eq!(seen, 101);
    }

    #[test]
    fn equal_keys_hash_equally_and_integers_spread() {
        let s = FastState::default();
        let text = |t: &str| Key::One(KeyPart::Text(t.into()));
        assert_eq!(s.hash_one(int(42)), s.hash_one(int(42)));
        assert_eq!(s.hash_one(text("ann")), s.hash_one(text(&String::from("ann"))));
        assert_ne!(s.hash_one(text("ann")), s.hash_one(text("bob")));
        let pair = |a, b: &str| Key::Many(vec![KeyPart::Int(a), KeyPart::Text(b.into())].into_boxed_slice());
        assert_eq!(s.hash_one(pair(1, "x")), s.hash_one(pair(1, "x")));
        // hashbrown picks buckets with the low bits and tags entries with the top 7.
        let low: HashSet<u64> = (0..1024i64).map(|i| s.hash_one(int(i)) & 1023).collect();
        let top: HashSet<u64> = (0..1024i64).map(|i| s.hash_one(int(i)) >> 57).collect();
        assert!(low.len() > 500 && top.len() > 100, "{} {}", low.len(), top.len());
    }
}
