// Writes tables (a member list, a dues sheet) as .xlsx with libxlsxwriter and as CSV, every cell
// as inert text, never a formula (CSV/Excel injection). Pure: no database, no RPC.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dangjian/member/v1/member.pb.h"

namespace dj::member {

struct Sheet {
  std::string name;  // the worksheet's tab; cut to 31 characters, []:*?/\ replaced by '_'
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

// The .xlsx file's bytes: one worksheet, the header in bold and frozen, every cell a string cell
// (worksheet_write_string), so "=1+1" or "@SUM(A1)" is shown as typed and never evaluated; no
// apostrophe is added, because a string cell is already inert and the apostrophe would become
// part of the value. Written through a private temporary directory that is removed before
// returning. INVALID_ARGUMENT for a cell over Excel's 32,767 characters or more rows than a
// sheet holds; INTERNAL when the file cannot be written.
absl::StatusOr<std::string> WriteXlsx(const Sheet& sheet);

// UTF-8 with a BOM (so that Excel opens Chinese right), CRLF line ends, RFC 4180 quoting. A
// cell starting with '=', '+', '-', '@', a tab or a carriage return (after any apostrophes it
// already has) gets a leading apostrophe (OWASP's advice against CSV injection); ParseMemberCsv
// removes exactly one again on import, so an export re-imports unchanged.
std::string WriteCsv(const Sheet& sheet);

// A member list with the headers ParseMemberCsv / ParseMemberXlsx read (so that an export can be
// imported again), enum values as the Chinese words, dates as YYYY-MM-DD, then two columns the
// importer skips: 党籍状态 (status) and 党龄 (party_standing_years). ID numbers and phones are
// written as given: mask them first unless the caller may read personal data.
// The word a roster uses for a category (在职, 离退休, 学生, 其他), as the importer reads it.
std::string CategoryWord(dangjian::member::v1::MemberCategory category);

Sheet MemberSheet(const std::vector<dangjian::member::v1::Member>& members);

}  // namespace dj::member
