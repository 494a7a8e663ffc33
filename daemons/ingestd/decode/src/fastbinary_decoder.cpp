// FastBinarySerializer ("YAPN", branch feature/fast_binary_serializer): a flat list of named arrays
// (name = the `fields` value, an HDF5-style path). Uncompressed fields only; Blosc-compressed ones
// are rejected (Blosc2 is not packaged in Debian 12). Field names resolve like HDF5 dataset paths.
#include <cstring>

#include "byte_io.hpp"
#include "format_decoders.hpp"

namespace peaknet::ingest {
namespace {

constexpr uint32_t kMagic = 0x4E504159;

struct Field {
  std::string name;
  std::string descr;
  std::optional<WireDType> dtype;
  std::vector<uint64_t> shape;
  uint8_t compression = 0;
  Bytes data;
};

std::vector<Field> read_fields(Bytes m, const DecoderOptions& opt) {
  if (load_le<uint32_t>(m, 0, "fastbinary header") != kMagic)
    fail(RejectReason::kUnknownFormat, "fastbinary: bad magic");
  const uint32_t version = load_le<uint32_t>(m, 4, "fastbinary header");
  if (version != 1) fail(RejectReason::kMalformed, "fastbinary: version " + std::to_string(version));
  const uint32_t n = load_le<uint32_t>(m, 8, "fastbinary header");
  if (n > m.size() / 16) fail(RejectReason::kMalformed, "fastbinary: " + std::to_string(n) + " fields");
  uint64_t pos = 12;
  std::vector<Field> fields;
  auto text = [&](const char* what) {
    const uint32_t len = load_le<uint32_t>(m, pos, what);
    Bytes b = sub_span(m, pos + 4, len, what);
    pos += 4ull + len;
    return std::string(reinterpret_cast<const char*>(b.data()), b.size());
  };
  for (uint32_t i = 0; i < n; ++i) {
    Field f;
    f.name = text("fastbinary field name");
    f.descr = text("fastbinary dtype");
    f.dtype = parse_numpy_descr(f.descr);
    const uint32_t ndim = load_le<uint32_t>(m, pos, "fastbinary ndim");
    if (ndim > 32)
      fail(RejectReason::kMalformed, "fastbinary: " + f.name + " has " + std::to_string(ndim) + " dimensions");
    pos += 4;
    for (uint32_t d = 0; d < ndim; ++d, pos += 8) {
      const auto dim = load_le<int64_t>(m, pos, "fastbinary dims");
      if (dim < 0) fail(RejectReason::kBadShape, "fastbinary: " + f.name + " has a negative dimension");
      f.shape.push_back(static_cast<uint64_t>(dim));
    }
    f.compression = std::to_integer<uint8_t>(sub_span(m, pos, 1, "fastbinary compression")[0]);
    const uint64_t uncompressed = load_le<uint64_t>(m, pos + 1, "fastbinary sizes");
    const uint64_t stored = load_le<uint64_t>(m, pos + 9, "fastbinary sizes");
    pos += 17;
    f.data = sub_span(m, pos, stored, ("fastbinary field " + f.name).c_str());
    pos += stored;
    if (uncompressed > opt.max_decoded_bytes)
      fail(RejectReason::kOverSizeLimit,
           "fastbinary: " + f.name + " declares " + std::to_string(uncompressed) + " bytes");
    if (f.dtype) {
      uint64_t want = f.dtype->size();
      for (uint64_t d : f.shape) want = checked_mul(want, d, f.name.c_str());
      if (want != uncompressed || (f.compression == 0 && stored != uncompressed)) {
        fail(RejectReason::kMalformed, "fastbinary: " + f.name + " sizes do not match its shape");
      }
    }
    fields.push_back(std::move(f));
  }
  return fields;
}

AuxArray to_array(const Field& f) {
  if (!f.dtype) fail(RejectReason::kUnsupportedDtype, "fastbinary: " + f.name + " dtype '" + f.descr + "'");
  if (f.compression != 0)
    fail(RejectReason::kUnsupportedFilter, "fastbinary: " + f.name + " is Blosc-compressed (not supported)");
  AuxArray a;
  a.name = f.name;
  a.dtype = *f.dtype;
  a.shape = f.shape;
  a.bytes.assign(f.data.begin(), f.data.end());
  if (a.dtype.big_endian) byteswap_inplace(a.bytes.data(), a.count(), a.dtype.size());
  a.dtype.big_endian = false;
  return a;
}

const Field* find(const std::vector<Field>& fields, const std::vector<std::string>& names) {
  for (const auto& n : names) {
    for (const auto& f : fields) {
      if (f.name == n || (!n.empty() && n[0] == '/' && f.name == n.substr(1))) return &f;
    }
  }
  return nullptr;
}

}  // namespace

void decode_fastbinary(Bytes message, DecodeCall& call) {
  const DecoderOptions& opt = call.options;
  const std::vector<Field> fields = read_fields(message, opt);
  const Field* det = find(fields, opt.hdf5_detector_paths);
  if (!det && opt.hdf5_detector_fallback) {
    for (const auto& f : fields) {
      if ((f.shape.size() == 3 || f.shape.size() == 4) && f.dtype && (!det || f.data.size() > det->data.size()))
        det = &f;
    }
  }
  if (!det) {
    call.result.no_image = true;
    call.result.detail = "fastbinary: no detector field";
    return;
  }
  if (!det->dtype) fail(RejectReason::kUnsupportedDtype, "fastbinary: " + det->name + " dtype '" + det->descr + "'");
  if (det->compression != 0)
    fail(RejectReason::kUnsupportedFilter, "fastbinary: " + det->name + " is Blosc-compressed (not supported)");
  BatchPlan plan = plan_batch(det->name, *det->dtype, det->shape, std::nullopt, true, opt);
  auto optional_array = [&](const std::vector<std::string>& names) -> std::optional<AuxArray> {
    const Field* f = find(fields, names);
    if (!f || !f->dtype || f->compression != 0) return std::nullopt;
    return to_array(*f);
  };
  plan.timestamp = optional_array(opt.hdf5_timestamp_paths);
  plan.wavelength = optional_array(opt.hdf5_wavelength_paths);
  const uint64_t bytes = plan.event_bytes();
  for (uint32_t i = 0; i < plan.events; ++i) {
    emit_event(
        call.sink, event_meta(plan, i, opt), bytes, det->dtype->big_endian,
        [&](std::byte* dst) {
          if (dst) std::memcpy(dst, det->data.data() + uint64_t{i} * bytes, bytes);
        },
        call.result);
  }
}

std::vector<AuxArray> fastbinary_all_arrays(Bytes message, const DecoderOptions& options) {
  std::vector<AuxArray> out;
  for (const auto& f : read_fields(message, options)) out.push_back(to_array(f));
  return out;
}

}  // namespace peaknet::ingest
