//! Handles: generation-checked integers, never pointers, one table per kind of object.
//!
//! A handle is `(kind << 56) | (generation << 32) | (slot + 1)`: `kind` names the table (0 for
//! connections, 1 for envs), so a handle of one kind is never taken for another. Slots are
//! reused, but each reuse bumps the slot's 24-bit generation, so a closed handle, a handle from
//! an earlier generation, 0, or any random 64-bit value is recognised as invalid instead of
//! reaching freed memory.

#![allow(non_camel_case_types)]

use super::result::{WSB_INTERNAL, WSB_INVALID_HANDLE};
use super::Failure;
use crate::client::Connection;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// A connection handle. 0 is never a valid handle.
pub type wsb_handle = u64;

/// Generations live in 24 bits; 0 is never issued.
const MAX_GENERATION: u32 = (1 << 24) - 1;

/// The connections behind `wsb_handle`s.
pub(crate) static CONNECTIONS: Table<Connection> = Table::new(0, "an open connection");

/// A table of objects reached through handles of one kind.
pub(crate) struct Table<T> {
    inner: RwLock<Inner<T>>,
    kind: u8,
    /// What a valid handle names, for messages: "an open connection".
    noun: &'static str,
}

struct Slot<T> {
    generation: u32,
    item: Option<Arc<T>>,
}

struct Inner<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    /// Generation of new slots: above every generation issued before `remove_all` released
    /// the storage, so no earlier handle becomes valid again.
    first_generation: u32,
}

fn next_generation(g: u32) -> u32 {
    if g >= MAX_GENERATION {
        1
    } else {
        g + 1
    }
}

impl<T> Table<T> {
    pub(crate) const fn new(kind: u8, noun: &'static str) -> Self {
        Table {
            inner: RwLock::new(Inner {
                slots: Vec::new(),
                free: Vec::new(),
                first_generation: 1,
            }),
            kind,
            noun,
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Inner<T>> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner<T>> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    fn split(&self, h: u64) -> Option<(usize, u32)> {
        let index = (h & 0xffff_ffff) as usize;
        let generation = ((h >> 32) & MAX_GENERATION as u64) as u32;
        let kind = (h >> 56) as u8;
        (index > 0 && generation > 0 && kind == self.kind).then(|| (index - 1, generation))
    }

    fn invalid(&self, h: u64) -> Failure {
        Failure::new(
            WSB_INVALID_HANDLE,
            format!(
                "handle {h:#x} is not {} (0, already closed, never issued, or a handle of another kind)",
                self.noun
            ),
        )
    }

    /// Stores an object and returns its new handle.
    pub(crate) fn insert(&self, item: T) -> Result<u64, Failure> {
        let mut t = self.write();
        let index = match t.free.pop() {
            Some(i) => i as usize,
            None => {
                if t.slots.len() >= u32::MAX as usize - 1 {
                    return Err(Failure::new(WSB_INTERNAL, "too many open handles"));
                }
                let generation = t.first_generation;
                t.slots.push(Slot {
                    generation,
                    item: None,
                });
                t.slots.len() - 1
            }
        };
        let slot = &mut t.slots[index];
        slot.item = Some(Arc::new(item));
        Ok(((self.kind as u64) << 56) | ((slot.generation as u64) << 32) | (index as u64 + 1))
    }

    /// The object behind a handle.
    pub(crate) fn get(&self, h: u64) -> Result<Arc<T>, Failure> {
        let (index, generation) = self.split(h).ok_or_else(|| self.invalid(h))?;
        let t = self.read();
        match t.slots.get(index) {
            Some(Slot {
                generation: g,
                item: Some(c),
            }) if *g == generation => Ok(Arc::clone(c)),
            _ => Err(self.invalid(h)),
        }
    }

    /// Invalidates a handle and returns its object.
    pub(crate) fn remove(&self, h: u64) -> Result<Arc<T>, Failure> {
        let (index, generation) = self.split(h).ok_or_else(|| self.invalid(h))?;
        let mut t = self.write();
        let Some(slot) = t.slots.get_mut(index) else {
            return Err(self.invalid(h));
        };
        if slot.generation != generation || slot.item.is_none() {
            return Err(self.invalid(h));
        }
        let item = slot.item.take().expect("checked above");
        slot.generation = next_generation(slot.generation);
        t.free.push(index as u32);
        Ok(item)
    }

    /// Invalidates every handle and returns the objects.
    pub(crate) fn remove_all(&self) -> Vec<Arc<T>> {
        let mut t = self.write();
        let mut out = Vec::new();
        for slot in t.slots.iter_mut() {
            if let Some(c) = slot.item.take() {
                slot.generation = next_generation(slot.generation);
                out.push(c);
            }
        }
        // Every slot is empty now: release the storage (a library about to be unloaded must leave
        // nothing on the heap), and number later slots above every generation issued so far.
        let highest = t.slots.iter().map(|s| s.generation).max().unwrap_or(1);
        t.first_generation = t.first_generation.max(highest);
        t.slots = Vec::new();
        t.free = Vec::new();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::Table;

    #[test]
    fn zero_half_and_foreign_handles_are_invalid() {
        let t: Table<u8> = Table::new(0, "a test item");
        assert_eq!(t.split(0), None);
        assert_eq!(t.split(1), None); // generation 0
        assert_eq!(t.split(1 << 32), None); // slot 0 means "no slot"
        assert_eq!(t.split((7 << 32) | 3), Some((2, 7)));
        assert_eq!(t.split((1 << 56) | (7 << 32) | 3), None); // another table's kind
        let other: Table<u8> = Table::new(1, "another item");
        let h = other.insert(5).unwrap();
        assert!(t.get(h).is_err() && *other.get(h).unwrap() == 5);
        assert!(other.get(h & !(1 << 56)).is_err());
    }

    #[test]
    fn a_removed_handle_stays_invalid_when_its_slot_is_reused() {
        let t: Table<u8> = Table::new(1, "a test item");
        let first = t.insert(1).unwrap();
        assert_eq!(*t.remove(first).unwrap(), 1);
        let second = t.insert(2).unwrap();
        assert_ne!(first, second);
        assert_eq!(first & 0xffff_ffff, second & 0xffff_ffff);
        assert!(t.get(first).is_err() && t.remove(first).is_err());
        assert_eq!(*t.get(second).unwrap(), 2);
        assert_eq!(t.remove_all().len(), 1);
        assert!(t.get(second).is_err());
    }
}
