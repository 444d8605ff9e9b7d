// A bounded pool of database connections with transactions. Connections are made lazily, a
// broken one is dropped, one idle for a while is pinged before reuse, and waiting for a free
// connection is bounded. Pool metrics: dj_db_pool_connections_{open,in_use},
// dj_db_pool_wait_seconds, dj_db_query_seconds.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "common/db/db.h"

namespace dj::db {

struct PoolOptions {
  std::string name = "main";  // label on the pool's metrics
  int size = 8;
  std::chrono::milliseconds acquire_timeout{5000};
  std::chrono::seconds ping_after_idle{30};
};

class Pool final {
 public:
  class Lease final {
   public:
    Lease(Lease&& other) noexcept : pool_(other.pool_), conn_(std::move(other.conn_)) {
      other.pool_ = nullptr;
    }
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    Connection& operator*() const { return *conn_; }
    Connection* operator->() const { return conn_.get(); }

   private:
    friend class Pool;
    Lease(Pool* pool, std::unique_ptr<Connection> conn) : pool_(pool), conn_(std::move(conn)) {}
    Pool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  Pool(std::unique_ptr<Driver> driver, PoolOptions options);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // A connection, or UNAVAILABLE when none could be had within acquire_timeout.
  absl::StatusOr<Lease> Acquire();

  // Runs `fn` on one connection of the pool, outside a transaction (reads), and gives the
  // connection back: `fn` returns absl::Status or absl::StatusOr<T>, and so does Run (the
  // pool's UNAVAILABLE when no connection could be had). Stores take the connection they run
  // on; handlers choose it with Run or Transact, so a read inside a transaction uses the
  // transaction's connection and never waits for a second one.
  template <typename Fn>
  auto Run(Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
    auto lease = Acquire();
    if (!lease.ok()) {
      return lease.status();
    }
    return fn(**lease);
  }

  // Runs `fn` in a transaction: commits when it returns OK, rolls back otherwise. A deadlock or
  // lock timeout (ABORTED from the database) reruns `fn` up to `attempts` times in all, so `fn`
  // must have no effect outside the transaction.
  absl::Status Transact(const std::function<absl::Status(Connection&)>& fn, int attempts = 3);

  // Tries to connect until it works or `timeout` passes (start-up, when the database may still
  // be coming up).
  absl::Status WaitUntilReachable(std::chrono::seconds timeout);

  Dialect dialect() const { return driver_->dialect(); }
  const Driver& driver() const { return *driver_; }

 private:
  struct Idle {
    std::unique_ptr<Connection> conn;
    std::chrono::steady_clock::time_point since;
  };
  struct Metrics;

  void Release(std::unique_ptr<Connection> conn);

  std::unique_ptr<Driver> driver_;
  PoolOptions options_;
  std::unique_ptr<Metrics> metrics_;
  std::mutex mu_;
  std::condition_variable released_;
  std::deque<Idle> idle_;  // guarded by mu_
  int open_ = 0;           // guarded by mu_: connections made and not yet dropped
};

}  // namespace dj::db
