//! [`Set`]: sets of distinct byte strings (redis-server's t_set.c data side).
//!
//! Three encodings, two of which redis-server 7.0 has:
//!
//! * **intset** (`intset`): sorted integers in an [`IntSet`], held inline in the keyspace
//!   entry (entry kind `SET_INTSET`; boxed past [`INLINE_INTSET_MAX`] bytes, which only a
//!   raised `set-max-intset-entries` reaches). A member is an integer when it is the
//!   canonical decimal form of an `i64` (`string2ll`: no `+`, no leading zeros, no `-0`), so
//!   `"01"` and `"+1"` are strings.
//! * **packed** (reported as `hashtable`, [`PACKED_ENCODING`]): up to
//!   [`PACKED_MAX_ENTRIES`] members of at most [`PACKED_MAX_MEMBER`] bytes in one
//!   [`Packed`] buffer, held inline (entry kind `SET_PACKED`). Redis 7.0 would hold such a
//!   set in a dict; cachegate keeps it packed because a set of ten short strings then costs
//!   one allocation with its key. The limits are Redis 7.2's listpack-set defaults: a
//!   membership test is a scan of at most 128 × 64 bytes, an add or removal a copy of at
//!   most ~8 KiB, so every command stays cheap; they are not configurable because nothing
//!   a client sees depends on them.
//! * **table** (`hashtable`): a [`MemberTable`], each member one allocation.
//!
//! A set starts as an empty intset (as redis-server creates one for a first member that is
//! an integer, and the result sets of SINTERSTORE, SUNIONSTORE and SDIFFSTORE). It leaves the
//! intset when a member that is not an integer is added, or when it has more than
//! `set-max-intset-entries` members (checked after the add, as `setTypeAdd` does), going to
//! the packed form if the members fit it and to the table otherwise; the packed form moves
//! to the table when it outgrows its limits. No set ever goes back — which is why `OBJECT
//! ENCODING` answers as redis-server does after the same commands.

use cachegate_protocols::number::parse_i64;

use super::intset::{self, IntSet, IntSetRef};
use super::listpack::{self, varint_len, Packed, PackedRef};
use super::members::{self, MemberTable};
use super::{Collection, Thresholds, PACKED_INLINE_MAX};
use crate::keyspace::entry::{kind, Kind, ValueType};

/// What `OBJECT ENCODING` says of a small set of strings held packed: redis-server 7.0 has
/// no packed encoding for them, so it reports its hash table.
pub const PACKED_ENCODING: &str = "hashtable";

/// Most members the packed form holds.
pub const PACKED_MAX_ENTRIES: usize = 128;

/// Longest member (bytes) the packed form holds.
pub const PACKED_MAX_MEMBER: usize = 64;

/// Largest intset (bytes) held inline in its entry; a bigger one is boxed, so that adding
/// to it does not copy the entry.
pub const INLINE_INTSET_MAX: usize = 8 * 1024;

/// The largest intset redis-server allows whatever `set-max-intset-entries` says.
const INTSET_HARD_MAX: usize = 1 << 30;

/// A set value; see the module doc.
#[derive(Clone, Debug)]
pub enum Set {
    /// Sorted integers.
    Ints(IntSet),
    /// A few short members, packed.
    Packed(Packed),
    /// A hash table of members.
    Table(MemberTable),
}

/// A read-only view of a set, wherever it is held.
#[derive(Clone, Copy)]
pub enum SetRef<'a> {
    /// The intset encoding.
    Ints(IntSetRef<'a>),
    /// The packed encoding.
    Packed(PackedRef<'a>),
    /// The table encoding.
    Table(&'a MemberTable),
}

/// A member as a set holds it: an intset's integer or another encoding's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Member<'a> {
    /// An integer (its member is its canonical decimal form).
    Int(i64),
    /// Bytes.
    Bytes(&'a [u8]),
}

impl<'a> Member<'a> {
    /// Calls `f` with the member's bytes (an integer is formatted on the stack).
    #[inline]
    pub fn with_bytes<R>(self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            Member::Int(v) => f(itoa::Buffer::new().format(v).as_bytes()),
            Member::Bytes(b) => f(b),
        }
    }

    /// The integer this member is, if it is one (`Int`, or bytes in canonical form).
    #[inline]
    pub fn as_int(self) -> Option<i64> {
        match self {
            Member::Int(v) => Some(v),
            Member::Bytes(b) => parse_i64(b),
        }
    }

    /// The member's bytes, owned.
    pub fn to_vec(self) -> Vec<u8> {
        self.with_bytes(<[u8]>::to_vec)
    }
}

/// `set-max-intset-entries` as redis-server applies it.
fn max_intset(t: &Thresholds) -> usize {
    t.set_max_intset_entries.min(INTSET_HARD_MAX)
}

/// True if a member of `len` bytes may be held packed.
fn packable(len: usize) -> bool {
    len <= PACKED_MAX_MEMBER
}

impl Default for Set {
    fn default() -> Self {
        Set::new()
    }
}

impl Set {
    /// An empty set (an intset).
    pub fn new() -> Self {
        Set::Ints(IntSet::new())
    }

    /// A read view.
    pub fn view(&self) -> SetRef<'_> {
        match self {
            Set::Ints(s) => SetRef::Ints(s.view()),
            Set::Packed(p) => SetRef::Packed(p.view()),
            Set::Table(t) => SetRef::Table(t),
        }
    }

    /// Makes room for `members` more members of `bytes` bytes in all, so that a command
    /// adding many members grows the small forms once (no allocation per member).
    pub fn reserve(&mut self, members: usize, bytes: usize) {
        match self {
            Set::Ints(s) => s.reserve(members),
            Set::Packed(p) => {
                let room = PACKED_MAX_ENTRIES.saturating_sub(p.len());
                p.reserve(
                    bytes
                        .saturating_add(members)
                        .min(room * (PACKED_MAX_MEMBER + 1)),
                );
            }
            Set::Table(_) => {}
        }
    }

    /// Adds `m`; true if it was not a member. Converts the encoding as the module doc says.
    pub fn add(&mut self, m: &[u8], t: &Thresholds) -> bool {
        if let Set::Ints(_) = self {
            match parse_i64(m) {
                Some(v) => return self.add_int(v, t),
                None => self.leave_intset(Some(m.len())),
            }
        }
        self.add_bytes(m)
    }

    /// [`Set::add`] for a member read from another set.
    pub fn add_member(&mut self, m: Member<'_>, t: &Thresholds) -> bool {
        match m {
            Member::Int(v) => self.add_int(v, t),
            Member::Bytes(b) => self.add(b, t),
        }
    }

    fn add_int(&mut self, v: i64, t: &Thresholds) -> bool {
        let Set::Ints(s) = self else {
            return Member::Int(v).with_bytes(|b| self.add_bytes(b));
        };
        if !s.insert(v) {
            return false;
        }
        if s.len() > max_intset(t) {
            self.leave_intset(None);
        }
        true
    }

    /// Adds to a packed or table set.
    fn add_bytes(&mut self, m: &[u8]) -> bool {
        match self {
            Set::Packed(p) => {
                if p.view().find(m).is_some() {
                    return false;
                }
                if p.len() >= PACKED_MAX_ENTRIES || !packable(m.len()) {
                    self.convert_to_table();
                    return self.add_bytes(m);
                }
                p.push(m);
                true
            }
            Set::Table(table) => table.insert(m),
            // Callers convert an intset first; should one not, it converts here.
            Set::Ints(_) => {
                self.leave_intset(Some(m.len()));
                self.add_bytes(m)
            }
        }
    }

    /// Converts an intset to the packed form, or to the table if its members plus one of
    /// `incoming` bytes (a member about to be added) would not fit the packed limits.
    fn leave_intset(&mut self, incoming: Option<usize>) {
        let Set::Ints(s) = self else {
            return;
        };
        let ints = s.view();
        let n = ints.len() + usize::from(incoming.is_some());
        let mut buf = itoa::Buffer::new();
        let incoming_fits = match incoming {
            Some(len) => packable(len),
            None => true,
        };
        if n <= PACKED_MAX_ENTRIES && incoming_fits {
            let mut p = Packed::new();
            // Up to 20 digits and a length byte each, and the incoming member.
            p.reserve(ints.len() * 21 + incoming.map_or(0, |l| l + varint_len(l)));
            for v in ints.iter() {
                p.push(buf.format(v).as_bytes());
            }
            *self = Set::Packed(p);
        } else {
            let mut table = MemberTable::new();
            table.reserve(n);
            for v in ints.iter() {
                table.insert(buf.format(v).as_bytes());
            }
            *self = Set::Table(table);
        }
    }

    /// Converts the packed form to the table.
    fn convert_to_table(&mut self) {
        let Set::Packed(p) = self else {
            return;
        };
        let mut table = MemberTable::new();
        table.reserve(p.len() + 1);
        for m in p.view().iter() {
            table.insert(m);
        }
        *self = Set::Table(table);
    }

    /// Removes `m`; true if it was a member.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        match self {
            Set::Ints(s) => parse_i64(m).is_some_and(|v| s.remove(v)),
            Set::Packed(p) => match p.view().find(m) {
                Some(pos) => {
                    p.remove_at(pos, 1);
                    true
                }
                None => false,
            },
            Set::Table(t) => t.remove(m),
        }
    }

    /// [`Set::remove`] for a member read from another set.
    pub fn remove_member(&mut self, m: Member<'_>) -> bool {
        match (self, m) {
            (Set::Ints(s), Member::Int(v)) => s.remove(v),
            (set, m) => m.with_bytes(|b| set.remove(b)),
        }
    }

    /// Removes a member chosen from `random`, passing it to `f` first; false if empty.
    pub fn pop_random(&mut self, random: u64, f: impl FnOnce(Member<'_>)) -> bool {
        match self {
            Set::Ints(s) => {
                if s.is_empty() {
                    return false;
                }
                let i = (random % s.len() as u64) as usize;
                f(Member::Int(s.remove_at(i)));
                true
            }
            Set::Packed(p) => {
                if p.is_empty() {
                    return false;
                }
                let i = (random % p.len() as u64) as usize;
                let Some((pos, m)) = p.view().positions().nth(i) else {
                    return false;
                };
                f(Member::Bytes(m));
                p.remove_at(pos, 1);
                true
            }
            Set::Table(t) => t.pop_random(random, |m| f(Member::Bytes(m))),
        }
    }
}

impl<'a> SetRef<'a> {
    /// Number of members.
    pub fn len(&self) -> usize {
        match self {
            SetRef::Ints(s) => s.len(),
            SetRef::Packed(p) => p.len(),
            SetRef::Table(t) => t.len(),
        }
    }

    /// True if there are no members.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True for the intset encoding.
    pub fn is_intset(&self) -> bool {
        matches!(self, SetRef::Ints(_))
    }

    /// True if `m` is a member.
    pub fn contains(&self, m: &[u8]) -> bool {
        match self {
            SetRef::Ints(s) => parse_i64(m).is_some_and(|v| s.contains(v)),
            SetRef::Packed(p) => p.find(m).is_some(),
            SetRef::Table(t) => t.contains(m),
        }
    }

    /// [`SetRef::contains`] for a member read from another set.
    #[inline]
    pub fn contains_member(&self, m: Member<'_>) -> bool {
        match (self, m) {
            (SetRef::Ints(s), Member::Int(v)) => s.contains(v),
            (set, m) => m.with_bytes(|b| set.contains(b)),
        }
    }

    /// Every member: ascending for an intset, insertion order when packed, table order
    /// otherwise.
    pub fn iter(&self) -> Iter<'a> {
        match self {
            SetRef::Ints(s) => Iter::Ints(s.iter()),
            SetRef::Packed(p) => Iter::Packed(p.iter()),
            SetRef::Table(t) => Iter::Table(t.iter()),
        }
    }

    /// A member chosen from `random`, with a number naming it among this set's members
    /// (its position, or its table slot) so that distinct picks can be told apart.
    pub fn random(&self, random: u64) -> Option<(usize, Member<'a>)> {
        let n = self.len();
        if n == 0 {
            return None;
        }
        let i = (random % n as u64) as usize;
        match self {
            SetRef::Ints(s) => Some((i, Member::Int(s.get(i)))),
            SetRef::Packed(p) => p.get(i).map(|m| (i, Member::Bytes(m))),
            SetRef::Table(t) => t.random(random).map(|(i, m)| (i, Member::Bytes(m))),
        }
    }

    /// One SSCAN step from `cursor`: an intset or a packed set returns everything at once
    /// (cursor 0), as redis-server does for intsets.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(Member<'a>)) -> u64 {
        match self {
            SetRef::Table(t) => t.scan(cursor, |m| f(Member::Bytes(m))),
            _ => {
                self.iter().for_each(f);
                0
            }
        }
    }
}

/// Iterator over a set's members.
pub enum Iter<'a> {
    /// Over an intset.
    Ints(intset::Iter<'a>),
    /// Over packed members.
    Packed(listpack::Iter<'a>),
    /// Over a table.
    Table(members::Members<'a>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = Member<'a>;
    #[inline]
    fn next(&mut self) -> Option<Member<'a>> {
        match self {
            Iter::Ints(it) => it.next().map(Member::Int),
            Iter::Packed(it) => it.next().map(Member::Bytes),
            Iter::Table(it) => it.next().map(Member::Bytes),
        }
    }
}

impl Collection for Set {
    fn len(&self) -> usize {
        self.view().len()
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Set::Ints(s) => s.heap_bytes(),
            Set::Packed(p) => p.heap_bytes(),
            Set::Table(t) => t.heap_bytes(),
        }
    }

    fn encoding(&self) -> &'static str {
        match self {
            Set::Ints(_) => "intset",
            Set::Packed(_) => PACKED_ENCODING,
            Set::Table(_) => "hashtable",
        }
    }
}

impl Kind for Set {
    const TYPE: ValueType = ValueType::Set;
    const BOXED: u8 = kind::SET;
    type Ref<'a> = SetRef<'a>;

    fn is_inline_kind(k: u8) -> bool {
        k == kind::SET_INTSET || k == kind::SET_PACKED
    }

    fn inline_ref(k: u8, bytes: &[u8]) -> SetRef<'_> {
        if k == kind::SET_INTSET {
            SetRef::Ints(IntSetRef::new(bytes))
        } else {
            SetRef::Packed(PackedRef::new(bytes))
        }
    }

    fn as_ref(&self) -> SetRef<'_> {
        self.view()
    }

    fn from_inline(k: u8, bytes: &[u8]) -> Self {
        if k == kind::SET_INTSET {
            Set::Ints(IntSet::from_bytes(bytes, 0))
        } else {
            Set::Packed(Packed::from_bytes(bytes))
        }
    }

    fn as_inline(&self) -> Option<(u8, &[u8])> {
        match self {
            Set::Ints(s) if s.bytes().len() <= INLINE_INTSET_MAX => {
                Some((kind::SET_INTSET, s.bytes()))
            }
            Set::Packed(p) if p.bytes().len() <= PACKED_INLINE_MAX => {
                Some((kind::SET_PACKED, p.bytes()))
            }
            _ => None,
        }
    }
}

/// Members of an inline set.
pub(crate) fn inline_len(k: u8, bytes: &[u8]) -> usize {
    Set::inline_ref(k, bytes).len()
}

#[cfg(test)]
mod tests;
