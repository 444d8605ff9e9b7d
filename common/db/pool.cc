// Connection pool, query timing and transactions.
#include "common/db/pool.h"

#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/metrics/metrics.h"
#include "common/rpc/errors.h"
#include "common/runtime/log.h"
#include "common/runtime/status_macros.h"
#include "common/runtime/strings.h"

namespace dj::db {
namespace {

std::string Operation(std::string_view sql) {
  size_t b = sql.find_first_not_of(" \t\r\n(");
  if (b == std::string_view::npos) {
    return "other";
  }
  size_t e = sql.find_first_of(" \t\r\n(", b);
  std::string op =
      absl::AsciiStrToLower(AV(sql.substr(b, e == std::string_view::npos ? e : e - b)));
  for (std::string_view known : {"select", "insert", "update", "delete", "replace"}) {
    if (op == known) {
      return op;
    }
  }
  return "other";
}

// Times every statement; wraps what the driver returns.
class TimedConnection final : public Connection {
 public:
  TimedConnection(std::unique_ptr<Connection> inner,
                  metrics::Series<prometheus::Histogram>* seconds, std::string pool)
      : inner_(std::move(inner)), seconds_(seconds), pool_(std::move(pool)) {}

  absl::StatusOr<Result> Execute(std::string_view sql, std::span<const Value> params) override {
    const auto start = std::chrono::steady_clock::now();
    auto result = inner_->Execute(sql, params);
    seconds_->With({pool_, Operation(sql)})
        .Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return result;
  }
  absl::Status Begin() override { return inner_->Begin(); }
  absl::Status Commit() override { return inner_->Commit(); }
  absl::Status Rollback() override { return inner_->Rollback(); }
  bool Healthy() const override { return inner_->Healthy(); }
  bool Ping() override { return inner_->Ping(); }
  Dialect dialect() const override { return inner_->dialect(); }

 private:
  std::unique_ptr<Connection> inner_;
  metrics::Series<prometheus::Histogram>* seconds_;
  std::string pool_;
};

}  // namespace

struct Pool::Metrics {
  prometheus::Gauge& open;
  prometheus::Gauge& in_use;
  prometheus::Histogram& wait;
  metrics::Series<prometheus::Histogram> query;
};

Pool::Pool(std::unique_ptr<Driver> driver, PoolOptions options)
    : driver_(std::move(driver)), options_(std::move(options)) {
  auto& reg = metrics::Registry();
  const prometheus::Labels labels{{"pool", options_.name}};
  metrics_.reset(new Metrics{
      prometheus::BuildGauge()
          .Name("dj_db_pool_connections_open")
          .Help("Database connections open.")
          .Register(reg)
          .Add(labels),
      prometheus::BuildGauge()
          .Name("dj_db_pool_connections_in_use")
          .Help("Database connections lent out.")
          .Register(reg)
          .Add(labels),
      prometheus::BuildHistogram()
          .Name("dj_db_pool_wait_seconds")
          .Help("Time waiting for a database connection.")
          .Register(reg)
          .Add(labels, metrics::LatencyBuckets()),
      {prometheus::BuildHistogram()
           .Name("dj_db_query_seconds")
           .Help("Time per database statement.")
           .Register(reg),
       {"pool", "op"},
       metrics::LatencyBuckets()},
  });
}

Pool::~Pool() {
  std::lock_guard lock(mu_);
  idle_.clear();
}

absl::StatusOr<Pool::Lease> Pool::Acquire() {
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + options_.acquire_timeout;
  std::unique_lock lock(mu_);
  while (true) {
    if (!idle_.empty()) {
      Idle idle = std::move(idle_.back());
      idle_.pop_back();
      if (std::chrono::steady_clock::now() - idle.since > options_.ping_after_idle) {
        lock.unlock();
        const bool alive = idle.conn->Ping();
        lock.lock();
        if (!alive) {
          --open_;
          metrics_->open.Set(open_);
          continue;
        }
      }
      metrics_->in_use.Increment();
      metrics_->wait.Observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      return Lease(this, std::move(idle.conn));
    }
    if (open_ < options_.size) {
      ++open_;
      lock.unlock();
      auto conn = driver_->Connect();
      lock.lock();
      if (!conn.ok()) {
        --open_;
        return conn.status();
      }
      metrics_->open.Set(open_);
      metrics_->in_use.Increment();
      metrics_->wait.Observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      return Lease(this, std::make_unique<TimedConnection>(*std::move(conn), &metrics_->query,
                                                           options_.name));
    }
    if (released_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= options_.size) {
      return rpc::DatabaseError(absl::StatusCode::kUnavailable,
                                absl::StrCat("no free connection in pool ", options_.name,
                                             " after ", options_.acquire_timeout.count(), " ms"));
    }
  }
}

void Pool::Release(std::unique_ptr<Connection> conn) {
  {
    std::lock_guard lock(mu_);
    metrics_->in_use.Decrement();
    if (conn->Healthy()) {
      idle_.push_back({std::move(conn), std::chrono::steady_clock::now()});
    } else {
      --open_;
      metrics_->open.Set(open_);
    }
  }
  released_.notify_one();
}

Pool::Lease::~Lease() {
  if (pool_ != nullptr && conn_ != nullptr) {
    pool_->Release(std::move(conn_));
  }
}

absl::Status Pool::Transact(const std::function<absl::Status(Connection&)>& fn, int attempts) {
  absl::Status last;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    auto lease = Acquire();
    if (!lease.ok()) {
      return lease.status();
    }
    Connection& conn = **lease;
    RETURN_IF_ERROR(conn.Begin());
    last = fn(conn);
    if (last.ok()) {
      last = conn.Commit();
      if (last.ok()) {
        return last;
      }
    }
    if (absl::Status rb = conn.Rollback(); !rb.ok() && conn.Healthy()) {
      log::Warn("rollback failed", {{"error", SV(rb.message())}});
    }
    if (last.code() != absl::StatusCode::kAborted || rpc::Reason(last) != "") {
      return last;  // not a database deadlock: the caller's own ABORTED (etag) is final
    }
  }
  return last;
}

absl::Status Pool::WaitUntilReachable(std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto lease = Acquire();
    if (lease.ok()) {
      return absl::OkStatus();
    }
    if (lease.status().code() != absl::StatusCode::kUnavailable ||
        std::chrono::steady_clock::now() > deadline) {
      return lease.status();
    }
    log::Warn("database not reachable yet; retrying",
              {{"database", driver_->Describe()}, {"error", SV(lease.status().message())}});
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

}  // namespace dj::db
