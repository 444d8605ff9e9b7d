// The process-wide Prometheus registry, its /metrics exposer, and the text form for servers
// (the gateway) that serve /metrics themselves.
#pragma once

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

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

}  // namespace dj::metrics
