#pragma once
// The replicated log: the seam between "a write was decided" and "the state store changed".
//
// Every write in Trellis is a typed command (api/proto/trellis.proto, Command) appended here.
// Once the log has made the entry durable (and, with several servers, committed), it hands the
// entry to the StateMachine (the FSM in src/server) on the *apply executor* (the agent's core
// event loop), stamped with its log index, and then completes the append.
//
// Implementations: MemoryLog (-dev, nothing durable), LmdbLog (one server, -data-dir, fsync before
// acknowledging, group commit, periodic snapshots), and later an etcd-backed log (several
// symmetric servers). The FSM and the HTTP endpoints must not know which one runs.
//
// Threading: append() and close() are called on the apply executor only. The StateMachine is
// called only on the apply executor, one entry at a time, in index order. An implementation may
// do I/O on threads of its own (obtained from src/event) and post back through `Poster`.

#include <any>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace trellis::consensus {

// Runs a closure on the apply executor (the core event loop). Thread-safe.
using Poster = std::function<void(std::function<void()>)>;

class StateMachine {
 public:
  virtual ~StateMachine() = default;
  // Applies one committed command. Deterministic: the same entries in the same order produce the
  // same state on every server. The returned value (e.g. a CAS outcome) goes to the appender.
  virtual std::any apply(uint64_t index, std::string_view command) = 0;
  // Serializes the whole state as of the last applied index.
  virtual std::string snapshot() const = 0;
  // Replaces the whole state with a snapshot taken at `index`.
  virtual Status restore(uint64_t index, std::string_view data) = 0;
};

struct Applied {
  uint64_t index = 0;
  std::any result;  // what StateMachine::apply returned for this entry
};

// Completion of an append, called on the apply executor after the entry was applied (or with an
// error: the log is closed, the disk failed, no leader).
using AppendDone = std::function<void(Result<Applied>)>;

class ReplicatedLog {
 public:
  virtual ~ReplicatedLog() = default;

  // Restores the newest snapshot into `fsm` and replays every durable entry after it, on the
  // calling thread, before anything is served. Keeps `fsm` for later appends.
  virtual Status open(StateMachine& fsm) = 0;

  // Appends one encoded command. `done` runs on the apply executor once the entry is applied.
  // Entries appended from one thread are applied in the order of their append calls.
  virtual void append(std::string command, AppendDone done) = 0;

  // Index of the last entry applied to the state machine (0 before the first).
  virtual uint64_t lastApplied() const = 0;

  // True when this server knows who leads (always, for the local logs).
  virtual bool knownLeader() const = 0;

  // Stops accepting appends; pending appends fail with kUnavailable. Flushes durable state.
  virtual void close() = 0;
};

}  // namespace trellis::consensus
