// Fuzzes the CLI's text parsers: the first line is an agent address, the second base64 text,
// the remaining lines are command-line arguments; the whole input is also laid out as a
// tabwriter table.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cli/api_client.h"
#include "cli/flags.h"
#include "cli/format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  std::string input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= input.size()) {
    size_t nl = input.find('\n', start);
    if (nl == std::string::npos) nl = input.size();
    lines.push_back(input.substr(start, nl - start));
    start = nl + 1;
  }
  (void)trellis::cli::parseHttpAddr(lines[0]);
  if (lines.size() > 1) (void)trellis::base64Decode(lines[1]);

  trellis::cli::FlagSet flags;
  bool b = false;
  std::string s;
  int64_t i = 0;
  uint64_t u = 0;
  trellis::Nanos d{0};
  std::vector<std::string> list;
  std::map<std::string, std::string> map;
  flags.addBool("b", &b, "");
  flags.addString("s", &s, "");
  flags.addInt("i", &i, "");
  flags.addUint64("u", &u, "");
  flags.addDuration("d", &d, "");
  flags.addStringList("l", &list, "");
  flags.addMap("m", &map, "");
  (void)flags.parse(std::vector<std::string>(lines.begin() + 1, lines.end()));

  (void)trellis::cli::tabwrite(input, 0, 6);
  return 0;
}
