// The process-wide Prometheus registry, its /metrics exposer, and the text form for servers
// (the gateway) that serve /metrics themselves.
#pragma once

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

// Latency buckets (seconds) shared by every *_seconds histogram, from 0.5 ms to 10 s.
const prometheus::Histogram::BucketBoundaries& LatencyBuckets();

}  // namespace dj::metrics
