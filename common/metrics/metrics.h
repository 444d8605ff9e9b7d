// The process-wide Prometheus registry, its /metrics exposer, and the text form for servers
// (the gateway) that serve /metrics themselves.
#pragma once

#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/container/flat_hash_map.h"

#include "absl/status/statusor.h"
#include "prometheus/counter.h"
#include "prometheus/exposer.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace dj::metrics {

prometheus::Registry& Registry();
std::shared_ptr<prometheus::Registry> RegistryPtr();

// Serves GET /metrics on `listen` (host:port) until the returned object is destroyed.
absl::StatusOr<std::unique_ptr<prometheus::Exposer>> StartExposer(std::string_view listen);

// The registry in the Prometheus text exposition format.
std::string Serialize();

// Label values come from closed sets only: a value taken from a request (a method name, a path)
// would let anyone create series without bound and exhaust the process's memory.

// "GET", "POST", ... for the HTTP methods the API knows; "other" for anything else.
std::string_view HttpMethodLabel(std::string_view method);

// `value` when it is one of `allowed`, else "other".
std::string_view OneOf(std::string_view value, std::initializer_list<std::string_view> allowed);

// Latency buckets (seconds) shared by every *_seconds histogram, from 0.5 ms to 10 s.
const prometheus::Histogram::BucketBoundaries& LatencyBuckets();

// A family's series found by their label values, without building a label map on every update
// (the hot paths update several series per request). The values still come from closed sets.
//   metrics::Series<prometheus::Counter> handled(family, {"service", "code"});
//   handled.With({service, code}).Increment();
template <typename T>
class Series final {
 public:
  Series(prometheus::Family<T>& family, std::vector<std::string> label_names)
      : family_(family), names_(std::move(label_names)) {}
  // Histograms: every series with `buckets`.
  Series(prometheus::Family<T>& family, std::vector<std::string> label_names,
         prometheus::Histogram::BucketBoundaries buckets)
      : family_(family), names_(std::move(label_names)), buckets_(std::move(buckets)) {}

  // `values` in the order of the label names.
  T& With(std::initializer_list<std::string_view> values) {
    thread_local std::string key;
    key.clear();
    for (std::string_view v : values) {
      key.append(v).push_back('\x1f');
    }
    {
      std::shared_lock lock(mu_);
      if (auto it = series_.find(key); it != series_.end()) {
        return *it->second;
      }
    }
    prometheus::Labels labels;
    size_t i = 0;
    for (std::string_view v : values) {
      labels.emplace(names_.at(i++), std::string(v));
    }
    std::unique_lock lock(mu_);
    T* series = nullptr;
    if constexpr (std::is_same_v<T, prometheus::Histogram>) {
      series = &family_.Add(labels, *buckets_);
    } else {
      series = &family_.Add(labels);
    }
    series_.emplace(key, series);
    return *series;
  }

 private:
  prometheus::Family<T>& family_;
  const std::vector<std::string> names_;
  const std::optional<prometheus::Histogram::BucketBoundaries> buckets_;
  std::shared_mutex mu_;
  absl::flat_hash_map<std::string, T*> series_;  // label values joined by 0x1f; guarded by mu_
};

}  // namespace dj::metrics
