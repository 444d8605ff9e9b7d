// Leasing node ids in Redis: SET NX PX to take one, a compare-and-PEXPIRE to renew it, a
// compare-and-DEL to give it back.
#include "common/ids/node_lease.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <numeric>
#include <random>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/runtime/log.h"
#include "common/runtime/strings.h"

namespace dj::ids {
namespace {

constexpr int kNodeIds = 1024;

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// "<service> on <host> pid <pid> #<random>": unique per lease, readable in an error.
std::string MakeOwner(std::string_view service) {
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  std::random_device rd;
  const uint64_t nonce = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  return absl::StrCat(service.empty() ? "a process" : AV(service), " on ", host, " pid ", getpid(),
                      " #", absl::Hex(nonce));
}

void DefaultLost(std::string_view why) {
  log::Error("node id lost: stopping so that no id is made twice", {{"why", why}});
  std::_Exit(kExitNodeIdLost);  // now: no destructor may run a handler that makes an id
}

}  // namespace

absl::StatusOr<int> ParseNodeId(std::string_view value) {
  const absl::string_view trimmed = absl::StripAsciiWhitespace(AV(value));
  value = std::string_view(trimmed.data(), trimmed.size());
  // A pod name: its ordinal is after the last '-' (and a name before it: "-1" is no id).
  if (const size_t dash = value.rfind('-'); dash != std::string_view::npos) {
    value = dash == 0 ? std::string_view() : value.substr(dash + 1);
  }
  int id = -1;
  if (value.empty() || !std::all_of(value.begin(), value.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(AV(value), &id) || id < 0 || id >= kNodeIds) {
    return absl::InvalidArgumentError(
        "must be a node id 0-1023, or a pod name ending in -<ordinal> (0-1023)");
  }
  return id;
}

NodeLease::NodeLease(std::unique_ptr<cache::Cache> redis, NodeLeaseOptions options, int node_id,
                     std::string owner, int64_t started_ms)
    : redis_(std::move(redis)),
      options_(std::move(options)),
      node_id_(node_id),
      key_(absl::StrCat(options_.key_prefix, node_id)),
      owner_(std::move(owner)),
      valid_until_(started_ms + options_.ttl.count() * 9 / 10) {}

absl::StatusOr<std::unique_ptr<NodeLease>> NodeLease::Acquire(std::unique_ptr<cache::Cache> redis,
                                                              NodeLeaseOptions options) {
  if (!options.clock) {
    options.clock = SteadyMs;
  }
  if (!options.on_lost) {
    options.on_lost = DefaultLost;
  }
  if (options.ttl < std::chrono::milliseconds(30)) {
    return absl::InvalidArgumentError("node id lease ttl too short");
  }
  std::vector<int> order;
  if (options.explicit_id.has_value()) {
    if (*options.explicit_id < 0 || *options.explicit_id >= kNodeIds) {
      return absl::InvalidArgumentError("node id must be in [0, 1023]");
    }
    order.push_back(*options.explicit_id);
  } else {
    // Random order: replicas starting together do not all race for id 0, 1, 2, ...
    order.resize(kNodeIds);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), std::mt19937_64(std::random_device{}()));
  }
  const std::string owner = MakeOwner(options.service);
  const int64_t give_up = options.clock() + options.wait.count();
  size_t next = 0;
  while (next < order.size()) {
    const std::string key = absl::StrCat(options.key_prefix, order[next]);
    const int64_t started = options.clock();
    auto taken = redis->SetIfAbsent(key, owner, options.ttl);
    if (!taken.ok()) {
      if (options.clock() >= give_up) {
        return absl::UnavailableError(
            absl::StrCat("cannot lease a node id: ", taken.status().message()));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(250));  // Redis still starting
      continue;
    }
    if (*taken) {
      std::unique_ptr<NodeLease> lease(
          new NodeLease(std::move(redis), std::move(options), order[next], owner, started));
      if (lease->options_.renew_in_background) {
        lease->thread_ = std::thread([l = lease.get()] { l->Loop(); });
      }
      return lease;
    }
    if (options.explicit_id.has_value()) {
      auto holder = redis->Get(key);
      const std::string who =
          holder.ok() && holder->has_value() ? **holder : std::string("another process");
      return absl::AlreadyExistsError(absl::StrCat(
          "node id ", order[next], " is already held by ", who,
          "; every process needs its own (or none, to lease a free one); a holder that died "
          "frees it within ",
          options.ttl.count() / 1000, " s"));
    }
    ++next;
  }
  return absl::ResourceExhaustedError(
      absl::StrCat("all ", kNodeIds, " node ids are leased (", options.key_prefix, "*)"));
}

NodeLease::~NodeLease() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
  if (!lost_.load()) {
    (void)redis_->DeleteIfEquals(key_, owner_);  // best effort: else it expires after a ttl
  }
}

int64_t NodeLease::Now() const { return options_.clock(); }

void NodeLease::Lose(std::string_view why) {
  if (!lost_.exchange(true)) {
    options_.on_lost(absl::StrCat("node id ", node_id_, " (", key_, "): ", AV(why)));
  }
}

void NodeLease::Check() {
  if (!lost_.load() && Now() >= valid_until_.load()) {
    Lose("its lease ended before it could be renewed");
  }
}

NodeLease::Renewal NodeLease::Renew() {
  if (lost_.load()) {
    return Renewal::kLost;
  }
  const int64_t started = Now();
  if (started >= valid_until_.load()) {
    Lose("its lease ended before it could be renewed");
    return Renewal::kLost;
  }
  auto extended = redis_->ExtendIfEquals(key_, owner_, options_.ttl);
  if (extended.ok() && !*extended) {
    // Not ours any more. Missing (Redis restarted empty): nobody holds it, take it back;
    // another value: another process holds it now.
    extended = redis_->SetIfAbsent(key_, owner_, options_.ttl);
    if (extended.ok() && *extended) {
      log::Warn("node id lease had vanished; taken back", {{"node_id", absl::StrCat(node_id_)}});
    } else if (extended.ok()) {
      auto holder = redis_->Get(key_);
      Lose(absl::StrCat("now held by ",
                        holder.ok() && holder->has_value() ? **holder : "another process"));
      return Renewal::kLost;
    }
  }
  if (!extended.ok()) {
    log::Warn(
        "cannot renew the node id lease",
        {{"node_id", absl::StrCat(node_id_)}, {"error", std::string(extended.status().message())}});
    return Renewal::kUnreachable;
  }
  valid_until_.store(started + options_.ttl.count() * 9 / 10);
  return Renewal::kRenewed;
}

void NodeLease::Loop() {
  const auto period = options_.ttl / 3;
  const auto retry = std::max(options_.ttl / 20, std::chrono::milliseconds(10));
  auto wait = period;
  std::unique_lock lock(mu_);
  while (!stopping_) {
    wake_.wait_for(lock, wait, [this] { return stopping_; });
    if (stopping_) {
      break;
    }
    lock.unlock();
    const Renewal r = Renew();
    lock.lock();
    if (r == Renewal::kLost) {
      break;
    }
    // Unreachable: try again soon, until the lease's end (then Renew loses it).
    wait = r == Renewal::kRenewed ? period : std::min(period, retry);
  }
}

}  // namespace dj::ids
