// Outbox append, relay and the in-process bus.
#include "common/events/events.h"

#include <algorithm>

#include "common/time/clock.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/metrics/metrics.h"
#include "common/runtime/log.h"
#include "common/runtime/status_macros.h"
#include "common/runtime/strings.h"

namespace dj::events::schema_mysql {
std::span<const EmbeddedFile> Files();
}  // namespace dj::events::schema_mysql
namespace dj::events::schema_sqlite {
std::span<const EmbeddedFile> Files();
}  // namespace dj::events::schema_sqlite

namespace dj::events {
namespace {

class InProcessBus final : public EventBus {
 public:
  absl::Status Publish(const Event& event) override {
    std::vector<std::pair<std::string, Handler>> targets;
    {
      std::lock_guard lock(mu_);
      auto it = subscriptions_.find(event.stream);
      if (it != subscriptions_.end()) {
        targets.assign(it->second.begin(), it->second.end());
      }
    }
    // Every group must take it; a group that fails gets it again with the next relay pass, and
    // the groups that succeeded skip it then (they recorded its id).
    absl::Status first_error;
    for (auto& [group, handler] : targets) {
      absl::Status s = handler(event);
      if (!s.ok() && first_error.ok()) {
        first_error = absl::Status(s.code(), absl::StrCat("consumer ", group, ": ", s.message()));
      }
    }
    return first_error;
  }

  void Subscribe(const std::string& stream, const std::string& group, Handler handler) override {
    std::lock_guard lock(mu_);
    subscriptions_[stream][group] = std::move(handler);
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::map<std::string, Handler>> subscriptions_;  // guarded by mu_
};

struct RelayMetrics {
  prometheus::Counter& published;
  prometheus::Counter& failures;
  prometheus::Gauge& backlog;
};

RelayMetrics& Metrics() {
  static RelayMetrics m{
      prometheus::BuildCounter()
          .Name("dj_outbox_published_total")
          .Help("Events relayed from the outbox to the bus.")
          .Register(metrics::Registry())
          .Add({}),
      prometheus::BuildCounter()
          .Name("dj_outbox_publish_failures_total")
          .Help("Relay attempts the bus refused (retried).")
          .Register(metrics::Registry())
          .Add({}),
      prometheus::BuildGauge()
          .Name("dj_outbox_backlog")
          .Help("Events in the outbox not yet published.")
          .Register(metrics::Registry())
          .Add({}),
  };
  return m;
}

}  // namespace

std::unique_ptr<EventBus> NewInProcessBus() { return std::make_unique<InProcessBus>(); }

std::span<const EmbeddedFile> Schema(db::Dialect dialect) {
  return dialect == db::Dialect::kMySql ? schema_mysql::Files() : schema_sqlite::Files();
}

namespace {
// An outbox row's columns, for Append and AppendFirst; the VALUES follow.
constexpr std::string_view kOutboxInsert =
    "INSERT INTO outbox (id, stream, type, event_key, sequence, payload, occurred_us, "
    "published_us) VALUES ";
}  // namespace

absl::StatusOr<Event> Append(db::Connection& c, ids::IdGenerator& ids, Event event,
                             int64_t now_us) {
  if (event.key.empty()) {
    return absl::InvalidArgumentError("an event needs the key of the aggregate it is about");
  }
  RETURN_IF_ERROR(
      c.Exec(absl::StrCat(
                 "INSERT INTO event_sequences (event_key, last_sequence) VALUES (?, 1) ",
                 c.dialect() == db::Dialect::kMySql
                     ? "ON DUPLICATE KEY UPDATE last_sequence = last_sequence + 1"
                     : "ON CONFLICT (event_key) DO UPDATE SET last_sequence = last_sequence + 1"),
             {event.key})
          .status());
  ASSIGN_OR_RETURN(event.sequence, LastSequence(c, event.key));
  event.id = ids.Next();
  if (event.occurred_us == 0) {
    event.occurred_us = now_us;
  }
  auto r = c.Exec(absl::StrCat(AV(kOutboxInsert), "(?, ?, ?, ?, ?, ?, ?, NULL)"),
                  {event.id, event.stream, event.type, event.key, event.sequence,
                   absl::Base64Escape(event.payload), event.occurred_us});
  if (!r.ok()) {
    return r.status();
  }
  return event;
}

absl::StatusOr<std::vector<Event>> AppendFirst(db::Connection& c, ids::IdGenerator& ids,
                                               std::vector<Event> events, int64_t now_us) {
  constexpr size_t kRowsPerStatement = 200;
  for (size_t begin = 0; begin < events.size(); begin += kRowsPerStatement) {
    const size_t end = std::min(events.size(), begin + kRowsPerStatement);
    std::vector<db::Value> sequences;
    std::vector<db::Value> rows;
    std::string sequence_sql = "INSERT INTO event_sequences (event_key, last_sequence) VALUES ";
    std::string outbox_sql(kOutboxInsert);
    for (size_t i = begin; i < end; ++i) {
      Event& e = events[i];
      if (e.key.empty()) {
        return absl::InvalidArgumentError("an event needs the key of the aggregate it is about");
      }
      e.sequence = 1;
      e.id = ids.Next();
      if (e.occurred_us == 0) {
        e.occurred_us = now_us;
      }
      absl::StrAppend(&sequence_sql, i == begin ? "" : ", ", "(?, 1)");
      sequences.emplace_back(e.key);
      absl::StrAppend(&outbox_sql, i == begin ? "" : ", ", "(?, ?, ?, ?, ?, ?, ?, NULL)");
      for (db::Value v : {db::Value(e.id), db::Value(e.stream), db::Value(e.type), db::Value(e.key),
                          db::Value(e.sequence), db::Value(absl::Base64Escape(e.payload)),
                          db::Value(e.occurred_us)}) {
        rows.push_back(std::move(v));
      }
    }
    RETURN_IF_ERROR(c.Execute(sequence_sql, sequences).status());
    RETURN_IF_ERROR(c.Execute(outbox_sql, rows).status());
  }
  return events;
}

absl::StatusOr<bool> MarkProcessed(db::Connection& c, std::string_view consumer, int64_t event_id,
                                   int64_t now_us) {
  auto seen = c.Exec("SELECT 1 FROM processed_events WHERE consumer = ? AND event_id = ?",
                     {std::string(consumer), event_id});
  if (!seen.ok()) {
    return seen.status();
  }
  if (!seen->rows.empty()) {
    return false;
  }
  auto r = c.Exec("INSERT INTO processed_events (consumer, event_id, processed_us) VALUES (?,?,?)",
                  {std::string(consumer), event_id, now_us});
  if (r.status().code() == absl::StatusCode::kAlreadyExists) {
    return false;  // a concurrent redelivery recorded it first
  }
  if (!r.ok()) {
    return r.status();
  }
  return true;
}

absl::Status ApplyOnce(db::Pool& pool, std::string_view consumer, const Event& event,
                       const std::function<absl::Status(db::Connection&)>& effect, int64_t now_us) {
  return pool.Transact([&](db::Connection& c) -> absl::Status {
    auto first = MarkProcessed(c, consumer, event.id, now_us);
    if (!first.ok()) {
      return first.status();
    }
    return *first ? effect(c) : absl::OkStatus();
  });
}

absl::StatusOr<int64_t> LastSequence(db::Connection& c, std::string_view key) {
  auto r =
      c.Exec("SELECT last_sequence FROM event_sequences WHERE event_key = ?", {std::string(key)});
  if (!r.ok()) {
    return r.status();
  }
  return r->rows.empty() ? 0 : r->rows[0].Int(0);
}

absl::StatusOr<int64_t> AppliedSequence(db::Connection& c, std::string_view consumer,
                                        std::string_view key) {
  auto r = c.Exec(absl::StrCat("SELECT applied_sequence FROM consumer_positions WHERE consumer = ? "
                               "AND event_key = ?",
                               AV(db::ForUpdate(c.dialect()))),
                  {std::string(consumer), std::string(key)});
  if (!r.ok()) {
    return r.status();
  }
  return r->rows.empty() ? 0 : r->rows[0].Int(0);
}

namespace {

// Moves `consumer`'s position on `key` from `applied` (what this transaction read, locked) to
// `sequence`: ABORTED when another transaction moved it first (rerun: then skip or wait).
absl::Status RecordPosition(db::Connection& c, std::string_view consumer, std::string_view key,
                            int64_t applied, int64_t sequence, int64_t now_us) {
  auto recorded =
      applied == 0 ? c.Exec(
                         "INSERT INTO consumer_positions (consumer, event_key, applied_sequence, "
                         "updated_us) VALUES (?, ?, ?, ?)",
                         {std::string(consumer), std::string(key), sequence, now_us})
                   : c.Exec(
                         "UPDATE consumer_positions SET applied_sequence = ?, updated_us = ? "
                         "WHERE consumer = ? AND event_key = ? AND applied_sequence = ?",
                         {sequence, now_us, std::string(consumer), std::string(key), applied});
  if (recorded.status().code() == absl::StatusCode::kAlreadyExists ||
      (recorded.ok() && recorded->affected_rows != 1)) {
    return absl::AbortedError(
        absl::StrCat("consumer ", AV(consumer), ": ", AV(key), " was applied concurrently"));
  }
  return recorded.status();
}

}  // namespace

absl::Status StartAt(db::Connection& c, std::string_view consumer, std::string_view key,
                     int64_t sequence, int64_t now_us) {
  if (sequence < 0) {
    return absl::InvalidArgumentError("a start position is a sequence, 0 or more");
  }
  ASSIGN_OR_RETURN(const int64_t applied, AppliedSequence(c, consumer, key));
  if (sequence <= applied) {
    return absl::OkStatus();
  }
  return RecordPosition(c, consumer, key, applied, sequence, now_us);
}

absl::Status ApplyInOrder(db::Pool& pool, std::string_view consumer, const Event& event,
                          const std::function<absl::Status(db::Connection&)>& effect,
                          int64_t now_us) {
  if (event.sequence <= 0) {
    return ApplyOnce(pool, consumer, event, effect, now_us);
  }
  return pool.Transact([&](db::Connection& c) -> absl::Status {
    // Locked (MySQL) or under SQLite's write transaction: two deliveries of one key do not both
    // pass this check.
    ASSIGN_OR_RETURN(const int64_t applied, AppliedSequence(c, consumer, event.key));
    if (event.sequence <= applied) {
      return absl::OkStatus();  // a redelivery
    }
    if (event.sequence > applied + 1) {
      return absl::UnavailableError(
          absl::StrCat("consumer ", AV(consumer), ": event ", event.sequence, " of ", event.key,
                       " waits for event ", applied + 1, ", not applied yet"));
    }
    RETURN_IF_ERROR(effect(c));
    return RecordPosition(c, consumer, event.key, applied, event.sequence, now_us);
  });
}

OutboxRelay::OutboxRelay(db::Pool& pool, EventBus& bus, RelayOptions options)
    : pool_(pool), bus_(bus), options_(options) {}

OutboxRelay::~OutboxRelay() { Stop(); }

absl::StatusOr<int> OutboxRelay::RelayOnce() {
  int published = 0;
  while (true) {
    std::vector<Event> batch;
    {
      auto lease = pool_.Acquire();
      if (!lease.ok()) {
        return lease.status();
      }
      auto rows = (*lease)->Exec(
          "SELECT id, stream, type, event_key, payload, occurred_us, sequence FROM outbox "
          "WHERE published_us IS NULL ORDER BY id LIMIT ?",
          {int64_t{options_.batch}});
      if (!rows.ok()) {
        return rows.status();
      }
      for (const db::Row& r : rows->rows) {
        Event e{.id = r.Int(0),
                .stream = r.Text(1),
                .type = r.Text(2),
                .key = r.Text(3),
                .sequence = r.Int(6),
                .payload = "",
                .occurred_us = r.Int(5)};
        if (!absl::Base64Unescape(r.Text(4), &e.payload)) {
          return absl::DataLossError(absl::StrCat("outbox event ", e.id, ": payload unreadable"));
        }
        batch.push_back(std::move(e));
      }
    }
    if (batch.empty()) {
      return published;
    }
    for (const Event& e : batch) {
      if (absl::Status s = bus_.Publish(e); !s.ok()) {
        Metrics().failures.Increment();
        log::Warn("event not delivered; will retry",
                  {{"event_id", absl::StrCat(e.id)}, {"type", e.type}, {"error", SV(s.message())}});
        return published;
      }
      auto lease = pool_.Acquire();
      if (!lease.ok()) {
        return lease.status();
      }
      // Marked after delivery: a crash in between means one redelivery, never a loss.
      auto marked = (*lease)->Exec("UPDATE outbox SET published_us = ? WHERE id = ?",
                                   {time::NowMicros(), e.id});
      if (!marked.ok()) {
        return marked.status();
      }
      Metrics().published.Increment();
      ++published;
    }
  }
}

absl::StatusOr<int64_t> OutboxRelay::Backlog() {
  auto lease = pool_.Acquire();
  if (!lease.ok()) {
    return lease.status();
  }
  auto r = (*lease)->Exec("SELECT COUNT(*) FROM outbox WHERE published_us IS NULL", {});
  if (!r.ok()) {
    return r.status();
  }
  Metrics().backlog.Set(static_cast<double>(r->rows[0].Int(0)));
  return r->rows[0].Int(0);
}

absl::Status OutboxRelay::Purge(int64_t now_us) {
  auto lease = pool_.Acquire();
  if (!lease.ok()) {
    return lease.status();
  }
  const int64_t cutoff =
      now_us -
      std::chrono::duration_cast<std::chrono::microseconds>(options_.keep_published).count();
  return (*lease)
      ->Exec("DELETE FROM outbox WHERE published_us IS NOT NULL AND published_us < ?", {cutoff})
      .status();
}

void OutboxRelay::Start() {
  thread_ = std::thread([this] {
    auto last_purge = std::chrono::steady_clock::now();
    std::unique_lock lock(mu_);
    while (!stop_) {
      lock.unlock();
      if (auto r = RelayOnce(); !r.ok()) {
        log::Warn("outbox relay", {{"error", SV(r.status().message())}});
      }
      (void)Backlog();
      if (std::chrono::steady_clock::now() - last_purge > std::chrono::hours(1)) {
        (void)Purge(time::NowMicros());
        last_purge = std::chrono::steady_clock::now();
      }
      lock.lock();
      wake_.wait_for(lock, options_.poll_interval, [&] { return stop_ || woken_; });
      woken_ = false;
    }
  });
}

void OutboxRelay::Wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  wake_.notify_one();
}

void OutboxRelay::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) {
    thread_.join();
  }
}

}  // namespace dj::events
