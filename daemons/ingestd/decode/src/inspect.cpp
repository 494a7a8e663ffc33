#include "ingest/decode/inspect.hpp"

#include <cstring>
#include <fstream>
#include <iterator>
#include <ostream>

#include "format_decoders.hpp"
#include "ingest/decode/decoder.hpp"
#include "ingest/decode/memory_sink.hpp"
#include "ingest/decode/sha256.hpp"

namespace peaknet::ingest {
namespace {

bool read_file(const std::string& path, std::vector<std::byte>& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  out.resize(bytes.size());
  if (!bytes.empty()) std::memcpy(out.data(), bytes.data(), bytes.size());
  return !in.bad();
}

nlohmann::json describe_arrays(WireFormat format, Bytes message, const DecoderOptions& options,
                               SimplonSession& session) {
  DecodeScratch scratch;
  std::vector<AuxArray> arrays;
  switch (format) {
    case WireFormat::kNpz:
      arrays = npz_all_arrays(message, options, scratch);
      break;
    case WireFormat::kHdf5:
      arrays = hdf5_all_arrays(message, options, scratch);
      break;
    case WireFormat::kSimplonCbor:
      arrays = simplon_all_arrays(message, options, session);
      break;
    case WireFormat::kFastBinary:
      arrays = fastbinary_all_arrays(message, options);
      break;
    case WireFormat::kUnknown:
      break;
  }
  nlohmann::json out = nlohmann::json::array();
  for (const AuxArray& a : arrays) {
    out.push_back(
        {{"name", a.name}, {"dtype", numpy_descr(a.dtype.dtype)}, {"shape", a.shape}, {"sha256", sha256_hex(a.bytes)}});
  }
  return out;
}

}  // namespace

std::vector<nlohmann::json> inspect_files(const std::vector<std::string>& paths, const DecoderOptions& options) {
  auto session = std::make_shared<SimplonSession>(options);
  Decoder decoder(options, session);
  std::vector<std::vector<std::byte>> messages(paths.size());
  std::vector<bool> readable(paths.size());
  for (size_t i = 0; i < paths.size(); ++i) readable[i] = read_file(paths[i], messages[i]);

  // Simplon start messages first: images may precede their start on the command line.
  MemorySink ignore(false);
  for (size_t i = 0; i < paths.size(); ++i) {
    if (readable[i] && sniff(messages[i]) == WireFormat::kSimplonCbor && simplon_is_start(messages[i])) {
      decoder.decode(messages[i], ignore);
    }
  }

  std::vector<nlohmann::json> out;
  for (size_t i = 0; i < paths.size(); ++i) {
    nlohmann::json j;
    j["file"] = paths[i];
    if (!readable[i]) {
      j["error"] = "cannot read file";
      out.push_back(std::move(j));
      continue;
    }
    MemorySink sink(false);
    const DecodeResult r = decoder.decode(messages[i], sink);
    j["format"] = to_string(r.format);
    j["events"] = r.events;
    if (r.events_rejected) j["events_rejected"] = r.events_rejected;
    if (r.no_image) j["no_image"] = true;
    if (r.held) j["held"] = true;
    if (r.end_of_stream) j["end_of_stream"] = true;
    if (r.reject) {
      j["reject"] = to_string(*r.reject);
      j["detail"] = r.detail;
    }
    if (!r.reject || r.events > 0) {
      try {
        j["arrays"] = describe_arrays(r.format, messages[i], options, *session);
      } catch (const std::exception& e) {
        j["arrays_error"] = e.what();
      }
    }
    out.push_back(std::move(j));
  }
  return out;
}

int run_inspect(const std::vector<std::string>& paths, const DecoderOptions& options, std::ostream& out) {
  int rc = 0;
  for (const auto& j : inspect_files(paths, options)) {
    if (j.contains("error")) rc = 1;
    out << j.dump() << "\n";
  }
  return rc;
}

}  // namespace peaknet::ingest
