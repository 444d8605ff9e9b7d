// The two shapes every handler repeats, written once over absl::Status:
//
//   RETURN_IF_ERROR(CheckPlacement(rules, parent.kind, kind, "kind", field));
//   ASSIGN_OR_RETURN(const OrgRow row, Load(id));
//   ASSIGN_OR_RETURN(std::optional<OrgRow> found, OrgStore::Find(c, id, true));
//
// RETURN_IF_ERROR returns the status of an expression that yields absl::Status when it is not
// OK. ASSIGN_OR_RETURN evaluates an expression that yields absl::StatusOr<T> once; on an error
// it returns that error, else it moves the value into the declaration or lvalue on the left.
// Both work in functions returning absl::Status or any absl::StatusOr<U>. The error is passed
// on unchanged (code, message and payloads such as the field violations of rpc/errors.h).
#pragma once

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define DJ_STATUS_CONCAT_INNER(a, b) a##b
#define DJ_STATUS_CONCAT(a, b) DJ_STATUS_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR(expr)                                  \
  do {                                                         \
    if (::absl::Status dj_status_ = (expr); !dj_status_.ok()) { \
      return dj_status_;                                       \
    }                                                          \
  } while (false)

#define DJ_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) {                               \
    return std::move(tmp).status();              \
  }                                              \
  lhs = *std::move(tmp)

#define ASSIGN_OR_RETURN(lhs, expr) \
  DJ_ASSIGN_OR_RETURN_IMPL(DJ_STATUS_CONCAT(dj_statusor_, __LINE__), lhs, expr)
