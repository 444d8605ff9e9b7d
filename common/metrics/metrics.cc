// One registry per process; every component registers its families here.
#include "common/metrics/metrics.h"

#include "absl/strings/str_cat.h"
#include "common/runtime/strings.h"
#include "prometheus/text_serializer.h"

namespace dj::metrics {

std::shared_ptr<prometheus::Registry> RegistryPtr() {
  static const auto registry = std::make_shared<prometheus::Registry>();
  return registry;
}

prometheus::Registry& Registry() { return *RegistryPtr(); }

absl::StatusOr<std::unique_ptr<prometheus::Exposer>> StartExposer(std::string_view listen) {
  try {
    auto exposer = std::make_unique<prometheus::Exposer>(std::string(listen));
    exposer->RegisterCollectable(RegistryPtr());
    return exposer;
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve /metrics on ", AV(listen), ": ", e.what()));
  }
}

std::string Serialize() {
  prometheus::TextSerializer serializer;
  return serializer.Serialize(Registry().Collect());
}

std::string_view OneOf(std::string_view value, std::initializer_list<std::string_view> allowed) {
  for (std::string_view a : allowed) {
    if (a == value) {
      return a;
    }
  }
  return "other";
}

std::string_view HttpMethodLabel(std::string_view method) {
  return OneOf(method, {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"});
}

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return kBuckets;
}

}  // namespace dj::metrics
