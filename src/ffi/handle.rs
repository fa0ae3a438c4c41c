//! Handles: generation-checked integers, never pointers.
//!
//! A handle is `(generation << 32) | (slot + 1)`. Slots are reused, but each reuse bumps the
//! slot's generation, so a closed handle, a handle from an earlier generation, 0, or any random
//! 64-bit value is recognised as invalid instead of reaching freed memory.

#![allow(non_camel_case_types)]

use super::result::WSB_INVALID_HANDLE;
use super::Failure;
use crate::client::Connection;
use std::sync::{Arc, RwLock};

/// A connection handle. 0 is never a valid handle.
pub type wsb_handle = u64;

struct Slot {
    generation: u32,
    conn: Option<Arc<Connection>>,
}

struct Table {
    slots: Vec<Slot>,
    free: Vec<u32>,
    /// Generation of new slots: above every generation issued before `remove_all` released
    /// the storage, so no earlier handle becomes valid again.
    first_generation: u32,
}

static TABLE: RwLock<Table> = RwLock::new(Table {
    slots: Vec::new(),
    free: Vec::new(),
    first_generation: 1,
});

fn read() -> std::sync::RwLockReadGuard<'static, Table> {
    TABLE.read().unwrap_or_else(|e| e.into_inner())
}

fn write() -> std::sync::RwLockWriteGuard<'static, Table> {
    TABLE.write().unwrap_or_else(|e| e.into_inner())
}

fn split(h: wsb_handle) -> Option<(usize, u32)> {
    let index = (h & 0xffff_ffff) as usize;
    let generation = (h >> 32) as u32;
    (index > 0 && generation > 0).then(|| (index - 1, generation))
}

/// Stores a connection and returns its new handle.
pub(crate) fn insert(conn: Connection) -> Result<wsb_handle, Failure> {
    let mut t = write();
    let index = match t.free.pop() {
        Some(i) => i as usize,
        None => {
            if t.slots.len() >= u32::MAX as usize - 1 {
                return Err(Failure::new(
                    super::result::WSB_INTERNAL,
                    "too many open connections",
                ));
            }
            let generation = t.first_generation;
            t.slots.push(Slot {
                generation,
                conn: None,
            });
            t.slots.len() - 1
        }
    };
    let slot = &mut t.slots[index];
    slot.conn = Some(Arc::new(conn));
    Ok(((slot.generation as u64) << 32) | (index as u64 + 1))
}

fn invalid(h: wsb_handle) -> Failure {
    Failure::new(
        WSB_INVALID_HANDLE,
        format!("handle {h:#x} is not an open connection (0, already closed, or never issued)"),
    )
}

/// The connection behind a handle.
pub(crate) fn get(h: wsb_handle) -> Result<Arc<Connection>, Failure> {
    let (index, generation) = split(h).ok_or_else(|| invalid(h))?;
    let t = read();
    match t.slots.get(index) {
        Some(Slot {
            generation: g,
            conn: Some(c),
        }) if *g == generation => Ok(Arc::clone(c)),
        _ => Err(invalid(h)),
    }
}

/// Invalidates a handle and returns its connection.
pub(crate) fn remove(h: wsb_handle) -> Result<Arc<Connection>, Failure> {
    let (index, generation) = split(h).ok_or_else(|| invalid(h))?;
    let mut t = write();
    let Some(slot) = t.slots.get_mut(index) else {
        return Err(invalid(h));
    };
    if slot.generation != generation || slot.conn.is_none() {
        return Err(invalid(h));
    }
    let conn = slot.conn.take().expect("checked above");
    // Generation 0 is never issued, so wrap from u32::MAX to 1.
    slot.generation = slot.generation.checked_add(1).unwrap_or(1);
    t.free.push(index as u32);
    Ok(conn)
}

/// Invalidates every handle and returns the connections.
pub(crate) fn remove_all() -> Vec<Arc<Connection>> {
    let mut t = write();
    let mut out = Vec::new();
    for slot in t.slots.iter_mut() {
        if let Some(c) = slot.conn.take() {
            slot.generation = slot.generation.checked_add(1).unwrap_or(1);
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

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn zero_and_half_handles_are_invalid() {
        assert_eq!(split(0), None);
        assert_eq!(split(1), None); // generation 0
        assert_eq!(split(1 << 32), None); // slot 0 means "no slot"
        assert_eq!(split((7 << 32) | 3), Some((2, 7)));
    }
}
