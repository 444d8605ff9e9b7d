// Events, written once for every service: a write appends its events to the service's `outbox`
// table in the same transaction; a relay publishes pending rows, in id order, to an EventBus and
// marks them published only when the bus has taken them; consumers record each event id they
// have applied in their own transaction. At-least-once delivery, exactly-once effect, and nothing
// lost when the process dies between any two steps.
//
// The bus is in-process for the embedded topology (NewInProcessBus: delivery is the subscribers'
// handlers running, so "taken" means "handled") and Redis Streams in the distributed one
// (RedisStreamsBus in redis_streams.h: "taken" means stored in the stream; consumer groups read
// it on their own time).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "common/db/pool.h"
#include "common/ids/id_generator.h"
#include "common/runtime/embedded_file.h"

namespace dj::events {

struct Event {
  int64_t id = 0;           // assigned by Append: time-ordered, unique
  std::string stream;       // e.g. "org.organizations"
  std::string type;         // e.g. "dangjian.org.v1.OrganizationMoved"
  std::string key;          // the aggregate it is about, e.g. "organizations/7"
  // The n-th event of `key` (1, 2, ...), assigned by Append in the writer's transaction; 0 for
  // an event written before sequences existed. Consumers apply a key's events in this order
  // (ApplyInOrder).
  int64_t sequence = 0;
  std::string payload;      // serialized protobuf
  int64_t occurred_us = 0;  // when the write happened
};

class EventBus {
 public:
  // Returns OK once the event's effect is committed by the subscriber; an error means "deliver
  // again later" (the subscriber must be idempotent: see MarkProcessed).
  using Handler = std::function<absl::Status(const Event&)>;

  virtual ~EventBus() = default;
  // OK when the bus has taken the event (in-process: every subscription handled it; Redis: the
  // stream stored it). An error means the relay offers it again later.
  virtual absl::Status Publish(const Event& event) = 0;
  // One handler per (stream, group): each group sees every event of the stream.
  virtual void Subscribe(const std::string& stream, const std::string& group, Handler handler) = 0;
  // No handler runs once this returns (a service stops its subscriptions before it is
  // destroyed). The in-process bus delivers on the publisher's thread: nothing to stop.
  virtual void Stop() {}
};

// Delivers synchronously to the subscribers, in publish order.
std::unique_ptr<EventBus> NewInProcessBus();

// The outbox and processed-events tables, applied with the service's own migrations.
std::span<const EmbeddedFile> Schema(db::Dialect dialect);

// Appends `event` to the outbox inside the caller's transaction. The key's next sequence number
// is taken first (a row lock on the key held to commit, so writers of one aggregate are
// serialized and its sequence has no gaps), then the id, so events about one aggregate are in
// commit order. Returns the event with its id and sequence.
absl::StatusOr<Event> Append(db::Connection& c, ids::IdGenerator& ids, Event event,
                             int64_t now_us);

// The first event of each of many aggregates created in the caller's transaction (a bulk create,
// e.g. a spreadsheet import): each key must have no event yet (its sequence is 1; a key that has
// one fails the whole call with ALREADY_EXISTS). Written in a few multi-row statements instead of
// two per event. Returns the events with their ids and sequences.
absl::StatusOr<std::vector<Event>> AppendFirst(db::Connection& c, ids::IdGenerator& ids,
                                               std::vector<Event> events, int64_t now_us);

// In a consumer's transaction: records that `consumer` applied `event_id`. False when it had
// already (a redelivery): the caller then skips the effect and commits.
absl::StatusOr<bool> MarkProcessed(db::Connection& c, std::string_view consumer, int64_t event_id,
                                   int64_t now_us);

// A consumer's handler body, exactly once per (consumer, event): in one transaction on `pool`,
// records the event with MarkProcessed and runs `effect` only when it is new, so a redelivery
// commits nothing. An error from `effect` rolls both back (the event is delivered again).
// `effect` may be rerun on a deadlock, like any Pool::Transact body.
absl::Status ApplyOnce(db::Pool& pool, std::string_view consumer, const Event& event,
                       const std::function<absl::Status(db::Connection&)>& effect,
                       int64_t now_us);

// A consumer's handler body for events that must be applied in their aggregate's order: in one
// transaction on `pool`, compares the event's sequence with the last one `consumer` applied for
// its key (consumer_positions) and
//   - skips it (commits nothing) when it was applied already (a redelivery);
//   - runs `effect` and records the new position when it is the next one;
//   - answers UNAVAILABLE, applying nothing, when an earlier event of the key has not been
//     applied yet (pending or failed): the bus delivers it again later, after the earlier one.
// So event n+1 of an aggregate is never applied while event n is not. An event without a
// sequence (written before sequences existed) falls back to ApplyOnce.
absl::Status ApplyInOrder(db::Pool& pool, std::string_view consumer, const Event& event,
                          const std::function<absl::Status(db::Connection&)>& effect,
                          int64_t now_us);

// Where a consumer starts when the early events of `key` are gone (a stream trimmed, a service
// added later): it copies the producer's state as of `sequence` (a snapshot read through the
// producer's API) and, on `c` in the same transaction as the copy, records that it has applied
// `key` up to `sequence`. ApplyInOrder then skips events up to it and applies from
// sequence + 1. A position already at or past `sequence` is kept: a position never moves back.
// ABORTED when another transaction recorded a first position for the key meanwhile (rerun).
absl::Status StartAt(db::Connection& c, std::string_view consumer, std::string_view key,
                     int64_t sequence, int64_t now_us);

// The last sequence of `key` that `consumer` applied (0: none), read on `c`.
absl::StatusOr<int64_t> AppliedSequence(db::Connection& c, std::string_view consumer,
                                        std::string_view key);
// The last sequence written for `key` (0: none), read on `c`.
absl::StatusOr<int64_t> LastSequence(db::Connection& c, std::string_view key);

struct RelayOptions {
  int batch = 100;
  std::chrono::milliseconds poll_interval{200};
  std::chrono::hours keep_published{24 * 7};  // published rows are purged after this
};

class OutboxRelay final {
 public:
  OutboxRelay(db::Pool& pool, EventBus& bus, RelayOptions options = {});
  ~OutboxRelay();

  // Publishes pending events in id order until none is left or one fails (order is kept: a
  // failed event blocks the ones after it). Returns how many were published.
  absl::StatusOr<int> RelayOnce();
  // Pending (unpublished) events.
  absl::StatusOr<int64_t> Backlog();
  // Deletes published events older than keep_published.
  absl::Status Purge(int64_t now_us);

  // Runs RelayOnce every poll_interval (and on Wake) on a thread of its own until Stop.
  void Start();
  void Wake();
  void Stop();

 private:
  db::Pool& pool_;
  EventBus& bus_;
  RelayOptions options_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;    // guarded by mu_
  bool woken_ = false;   // guarded by mu_
  std::thread thread_;
};

}  // namespace dj::events
