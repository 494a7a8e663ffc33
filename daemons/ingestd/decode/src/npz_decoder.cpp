// NumPy .npz (numpy.savez / savez_compressed): zip members "<key>.npy". Small arrays (timestamps,
// wavelengths, original shape) are decoded to memory; the detector array goes event by event
// straight into the sink's slots (memcpy from a stored member, or zlib inflate into the slot).
#include <algorithm>
#include <cstring>
#include <string_view>

#include "byte_io.hpp"
#include "codecs.hpp"
#include "format_decoders.hpp"
#include "npy_header.hpp"
#include "zip_archive.hpp"

namespace peaknet::ingest {
namespace {

constexpr uint64_t kMaxHeader = (1u << 20) + 12;

struct OpenedArray {
  std::string name;
  NpyHeader header;
  bool deflated = false;
  Bytes stored;  ///< data bytes of a stored member
};

std::string key_of(const ZipMember& z) {
  return z.name.size() > 4 && z.name.ends_with(".npy") ? z.name.substr(0, z.name.size() - 4) : z.name;
}

/// Parses the member's .npy header; a deflated member leaves the inflater at the data.
OpenedArray open_array(const ZipMember& z, const DecoderOptions& opt, DecodeScratch& s) {
  OpenedArray a;
  a.name = key_of(z);
  if (z.uncompressed_size > opt.max_decoded_bytes + kMaxHeader) {
    fail(RejectReason::kOverSizeLimit, "npz member " + z.name + " declares " + std::to_string(z.uncompressed_size) +
                                           " bytes, limit " + std::to_string(opt.max_decoded_bytes));
  }
  if (z.method == 0) {
    a.header = parse_npy_header(z.data, a.name);
  } else {
    a.deflated = true;
    Inflater& inf = *s.inflater;
    inf.start(z.data, /*raw=*/true, z.name.c_str());
    std::byte* h = ensure(s.a, 12);
    inf.read(h, 10);
    const uint64_t prefix = npy_prefix_bytes(Bytes(h, 10), a.name);
    if (prefix == 12) inf.read(h + 10, 2);
    const uint64_t total = npy_header_total_bytes(Bytes(h, prefix), a.name);
    h = ensure(s.a, total);
    inf.read(h + prefix, total - prefix);
    a.header = parse_npy_header(Bytes(h, total), a.name);
  }
  const uint64_t data = a.header.data_bytes();
  if (data > opt.max_decoded_bytes) {
    fail(RejectReason::kOverSizeLimit, "npz array " + a.name + " decodes to " + std::to_string(data) +
                                           " bytes, limit " + std::to_string(opt.max_decoded_bytes));
  }
  if (a.header.header_bytes + data != z.uncompressed_size) {
    fail(RejectReason::kMalformed, "npz array " + a.name + ": .npy header says " +
                                       std::to_string(a.header.header_bytes + data) + " bytes, zip member holds " +
                                       std::to_string(z.uncompressed_size));
  }
  if (!a.deflated) a.stored = z.data.subspan(a.header.header_bytes, data);
  return a;
}

AuxArray read_whole(const ZipMember& z, const DecoderOptions& opt, DecodeScratch& s) {
  OpenedArray a = open_array(z, opt, s);
  AuxArray out;
  out.name = a.name;
  out.dtype = a.header.dtype;
  out.shape = a.header.shape;
  out.bytes.resize(a.header.data_bytes());
  if (a.deflated) {
    s.inflater->read(out.bytes.data(), out.bytes.size());
    s.inflater->expect_end();
  } else {
    std::copy(a.stored.begin(), a.stored.end(), out.bytes.begin());
  }
  if (out.dtype.big_endian) byteswap_inplace(out.bytes.data(), out.count(), out.dtype.size());
  out.dtype.big_endian = false;
  return out;
}

const ZipMember* find_member(const std::vector<ZipMember>& members, const std::string& key) {
  for (const auto& z : members) {
    if (z.name == key + ".npy" || z.name == key) return &z;
  }
  return nullptr;
}

/// Optional metadata array: absent or of an unusable dtype (e.g. psana1 string timestamps) -> none.
std::optional<AuxArray> read_optional(const std::vector<ZipMember>& members, const std::string& key,
                                      const DecoderOptions& opt, DecodeScratch& s) {
  const ZipMember* z = find_member(members, key);
  if (!z) return std::nullopt;
  try {
    return read_whole(*z, opt, s);
  } catch (const DecodeError& e) {
    if (e.reason() == RejectReason::kUnsupportedDtype) return std::nullopt;
    throw;
  }
}

constexpr std::string_view kImageSuffix = ".image";
constexpr std::string_view kOriginalShapeSuffix = "_original_shape";

/// lclstreamer's own demo pipeline names the arrays after the detector: "<detector>.image" with
/// "<detector>.image_original_shape" (e.g. epix10k2M.image). The image keys of every such pair.
std::vector<std::string> detector_image_pairs(const std::vector<ZipMember>& members) {
  std::vector<std::string> images;
  for (const auto& z : members) {
    const std::string key = key_of(z);
    if (key.size() > kImageSuffix.size() && key.ends_with(kImageSuffix) &&
        find_member(members, key + std::string(kOriginalShapeSuffix))) {
      images.push_back(key);
    }
  }
  return images;
}

struct DetectorChoice {
  const ZipMember* image;
  std::string original_shape_key;
};

/// The configured detector member; without it (and with the default key) the one lclstreamer
/// "<detector>.image" pair. Rejects as missing_field naming the keys, or every pair when several.
DetectorChoice choose_detector(const std::vector<ZipMember>& members, const DecoderOptions& opt, DecodeResult& result) {
  if (const ZipMember* det = find_member(members, opt.npz_detector_key)) return {det, opt.npz_original_shape_key};
  const bool key_configured = opt.npz_detector_key != DecoderOptions{}.npz_detector_key;
  const std::vector<std::string> pairs = key_configured ? std::vector<std::string>{} : detector_image_pairs(members);
  if (pairs.size() == 1) {
    result.detector_found = pairs.front();
    return {find_member(members, pairs.front()), pairs.front() + std::string(kOriginalShapeSuffix)};
  }
  auto join = [](const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
  };
  if (pairs.size() > 1) {
    fail(RejectReason::kMissingField, "npz: no '" + opt.npz_detector_key + "' member and " +
                                          std::to_string(pairs.size()) + " <detector>.image arrays (" + join(pairs) +
                                          "): set ingestd.decode.npz.detector_key and original_shape_key to one");
  }
  std::vector<std::string> keys;
  for (const auto& z : members) keys.push_back(key_of(z));
  fail(RejectReason::kMissingField, "npz: no '" + opt.npz_detector_key + "' member (keys: " + join(keys) + ")");
}

}  // namespace

void decode_npz(Bytes message, DecodeCall& call) {
  const DecoderOptions& opt = call.options;
  const std::vector<ZipMember> members = read_zip_directory(message);
  const DetectorChoice detector = choose_detector(members, opt, call.result);
  const ZipMember* det = detector.image;
  auto timestamp = read_optional(members, opt.npz_timestamp_key, opt, call.scratch);
  auto wavelength = read_optional(members, opt.npz_wavelength_key, opt, call.scratch);
  auto original = read_optional(members, detector.original_shape_key, opt, call.scratch);
  auto producer_id = read_optional(members, kProducerIdKey, opt, call.scratch);
  auto producer_seq = read_optional(members, kProducerSeqKey, opt, call.scratch);

  OpenedArray a = open_array(*det, opt, call.scratch);  // last: the inflater now streams it
  BatchPlan plan = plan_batch(a.name, a.header.dtype, a.header.shape, std::move(original), false, opt);
  plan.timestamp = std::move(timestamp);
  plan.wavelength = std::move(wavelength);
  plan.producer_id = std::move(producer_id);
  plan.producer_seq = std::move(producer_seq);
  const uint64_t bytes = plan.event_bytes();
  Inflater& inf = *call.scratch.inflater;
  for (uint32_t i = 0; i < plan.events; ++i) {
    const EventMeta meta = event_meta(plan, i, opt);
    const bool ok = emit_event(
        call.sink, meta, bytes, a.header.dtype.big_endian,
        [&](std::byte* dst) {
          if (a.deflated) inf.read(dst, bytes);
          else if (dst) std::memcpy(dst, a.stored.data() + uint64_t{i} * bytes, bytes);
        },
        call.result);
    if (!ok && a.deflated) {  // the stream is broken: nothing after this event can be decoded
      call.result.events_rejected += plan.events - i - 1;
      return;
    }
  }
  if (a.deflated) {
    try {
      inf.expect_end();
    } catch (const DecodeError& e) {
      note_reject(call.result, e.reason(), e.what());
    }
  }
}

std::vector<AuxArray> npz_all_arrays(Bytes message, const DecoderOptions& options, DecodeScratch& s) {
  std::vector<AuxArray> out;
  for (const auto& z : read_zip_directory(message)) out.push_back(read_whole(z, options, s));
  return out;
}

}  // namespace peaknet::ingest
