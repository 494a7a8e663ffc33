// Simplon-style CBOR (SimplonBinarySerializer): 'c'/'m' prefix or bare map (pr-51); start / image /
// stop|end maps. Images carry headerless bitshuffle-LZ4 `compressed_data` (4096-element blocks)
// whose shape and dtype come from the run's start message (SimplonSession), which may arrive
// after images from other ranks: those are parked, bounded, and decoded when it arrives.
#include <charconv>
#include <cmath>
#include <limits>

#include "bitshuffle.hpp"
#include "byte_io.hpp"
#include "cbor.hpp"
#include "format_decoders.hpp"

namespace peaknet::ingest {
namespace {

constexpr size_t kSimplonBlockElems = 4096;

Bytes body_of(Bytes message) {
  if (!message.empty()) {
    const auto first = std::to_integer<uint8_t>(message[0]);
    if (first == 'c' || first == 'm') {
      if (message.size() < 2) fail(RejectReason::kTruncated, "simplon: prefix byte without a map");
      return message.subspan(1);
    }
  }
  return message;
}

CborValue parse_map(Bytes message) {
  CborValue root = parse_cbor(body_of(message));
  if (root.type != CborValue::Type::kMap) fail(RejectReason::kMalformed, "simplon: message is not a CBOR map");
  return root;
}

/// First of `keys` present; must be text when `text_only`.
const CborValue* field(const CborValue& map, std::initializer_list<const char*> keys) {
  for (const char* k : keys) {
    if (const CborValue* v = map.get(k)) return v;
  }
  return nullptr;
}

std::string text_field(const CborValue& map, std::initializer_list<const char*> keys, const char* what, bool required) {
  const CborValue* v = field(map, keys);
  if (!v) {
    if (required) fail(RejectReason::kMissingField, std::string("simplon: no '") + *keys.begin() + "' in " + what);
    return {};
  }
  if (v->type != CborValue::Type::kText)
    fail(RejectReason::kMalformed, std::string("simplon: '") + *keys.begin() + "' of " + what + " is not text");
  return std::string(v->text());
}

std::string run_of(const CborValue& map) {
  const CborValue* v = field(map, {"run", "run_id", "run_number"});
  if (!v) return {};
  if (v->type == CborValue::Type::kText) return std::string(v->text());
  if (v->type == CborValue::Type::kUInt) return std::to_string(v->uint);
  return {};
}

std::vector<uint64_t> parse_shape(std::string_view s, const char* what) {
  std::vector<uint64_t> shape;
  while (!s.empty()) {
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || v == 0)
      fail(RejectReason::kBadShape, std::string("simplon: bad ") + what + " '" + std::string(s) + "'");
    shape.push_back(v);
    s.remove_prefix(static_cast<size_t>(p - s.data()));
    if (!s.empty()) {
      if (s.front() != 'x' && s.front() != 'X' && s.front() != ',')
        fail(RejectReason::kBadShape, std::string("simplon: bad ") + what);
      s.remove_prefix(1);
    }
    if (shape.size() > 8) fail(RejectReason::kBadShape, std::string("simplon: ") + what + " has too many dimensions");
  }
  if (shape.empty()) fail(RejectReason::kBadShape, std::string("simplon: empty ") + what);
  return shape;
}

WireDType dtype_named(const std::string& name, const char* what) {
  auto t = parse_numpy_name(name);
  if (!t) fail(RejectReason::kUnsupportedDtype, std::string("simplon: ") + what + " '" + name + "' not supported");
  return *t;
}

SimplonFrameContext start_context(const CborValue& map) {
  SimplonFrameContext c;
  c.run = run_of(map);
  c.shape = parse_shape(text_field(map, {"shape"}, "start", true), "shape");
  const WireDType t = dtype_named(text_field(map, {"datatype", "image_dtype", "dtype"}, "start", true), "datatype");
  c.dtype = t.dtype;
  c.big_endian = t.big_endian;
  return c;
}

/// Decodes one headerless bitshuffle-LZ4 array of `shape` x `dtype` into dst.
void decode_payload(const CborValue& data, const std::vector<uint64_t>& shape, WireDType dtype, std::byte* dst,
                    std::vector<std::byte>& block, const char* what) {
  uint64_t n = 1;
  for (uint64_t d : shape) n = checked_mul(n, d, what);
  bitshuffle_decode(data.bytes, {BitshuffleCodec::kLz4, dtype.size(), kSimplonBlockElems}, n, dst, block, nullptr,
                    what);
}

const CborValue& payload_field(const CborValue& map, const char* key) {
  const CborValue* v = map.get(key);
  if (!v) fail(RejectReason::kMissingField, std::string("simplon: image has no '") + key + "'");
  if (v->type != CborValue::Type::kBytes)
    fail(RejectReason::kMalformed, std::string("simplon: '") + key + "' is not a byte string");
  return *v;
}

/// Image map checks that do not need the start message (done before parking it).
WireDType image_dtype(const CborValue& map, const SimplonFrameContext* ctx) {
  (void)payload_field(map, "compressed_data");
  const std::string name = text_field(map, {"dtype", "image_dtype"}, "image", false);
  if (!name.empty()) return dtype_named(name, "dtype");
  if (ctx) return WireDType{ctx->dtype, ctx->big_endian};
  return WireDType{shm::DType::kF64, false};
}

void set_timestamp(const CborValue* v, EventMeta& m) {
  if (!v) return;
  if (v->type == CborValue::Type::kUInt) {
    m.timestamp = static_cast<double>(v->uint);
    m.timestamp_u64 = v->uint;
    m.has_timestamp_u64 = true;
  } else if (v->type == CborValue::Type::kFloat) {
    m.timestamp = v->number;
  } else if (v->type == CborValue::Type::kText) {  // psana1 "<sec>.<nsec>", nsec not zero-padded
    const std::string_view t = v->text();
    uint64_t sec = 0, nsec = 0;
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), sec);
    if (ec != std::errc()) return;
    if (p < t.data() + t.size() && *p == '.') std::from_chars(p + 1, t.data() + t.size(), nsec);
    if (nsec >= 1000000000u || sec >= (1ull << 32)) return;
    m.timestamp = static_cast<double>(sec) + static_cast<double>(nsec) * 1e-9;
    m.timestamp_u64 = (sec << 32) | nsec;
    m.has_timestamp_u64 = true;
  }
}

void decode_image(const CborValue& map, const SimplonFrameContext& ctx, DecodeCall& call) {
  const WireDType dtype = image_dtype(map, &ctx);
  const auto& shape = ctx.shape;
  BatchPlan plan;
  plan.dtype = dtype;
  plan.events = 1;
  if (shape.size() == 2) {
    plan.channels = 1;
  } else if (shape.size() == 3) {
    plan.channels = static_cast<uint32_t>(shape[0]);
  } else {
    fail(RejectReason::kBadShape,
         "simplon: frame shape must be HxW or CxHxW, got " + std::to_string(shape.size()) + " dimensions");
  }
  if (shape[shape.size() - 2] > (1u << 24) || shape.back() > (1u << 24) || plan.channels > (1u << 16)) {
    fail(RejectReason::kBadShape, "simplon: frame dimension out of range");
  }
  plan.height = static_cast<uint32_t>(shape[shape.size() - 2]);
  plan.width = static_cast<uint32_t>(shape.back());
  const uint64_t bytes =
      checked_mul(checked_mul(plan.channels, plan.height, "simplon"), uint64_t{plan.width} * dtype.size(), "simplon");
  if (bytes > call.options.max_decoded_bytes)
    fail(RejectReason::kOverSizeLimit, "simplon: frame of " + std::to_string(bytes) + " bytes");
  EventMeta meta = event_meta(plan, 0, call.options);
  set_timestamp(map.get("timestamp"), meta);
  if (const CborValue* w = map.get("photon_wavelength"); w && w->is_number() && w->as_double() > 0) {
    meta.photon_wavelength_a = w->as_double();  // main sends the uint 0 for "none"
  }
  if (const CborValue* seq = map.get(kProducerSeqKey); seq && seq->is_number() && seq->as_double() >= 0) {
    const CborValue* id = map.get(kProducerIdKey);
    if (!id || (id->is_number() && id->as_double() >= 0)) {
      meta.producer_seq = static_cast<uint64_t>(seq->as_double());
      meta.producer_id = id ? static_cast<uint64_t>(id->as_double()) : 0;
      meta.has_producer_seq = true;
    }
  }
  const CborValue& data = payload_field(map, "compressed_data");
  emit_event(
      call.sink, meta, bytes, dtype.big_endian,
      [&](std::byte* dst) {
        if (dst) decode_payload(data, shape, dtype, dst, call.scratch.block, "simplon compressed_data");
      },
      call.result);
}

}  // namespace

bool simplon_is_start(Bytes message) noexcept {
  try {
    const CborValue root = parse_map(message);
    const CborValue* t = root.get("type");
    return t && t->type == CborValue::Type::kText && t->text() == "start";
  } catch (...) {
    return false;
  }
}

void decode_simplon(Bytes message, DecodeCall& call, SimplonSession& session) {
  const CborValue root = parse_map(message);
  const std::string type = text_field(root, {"type"}, "message", true);
  DecodeResult& r = call.result;
  if (type == "start") {
    SimplonFrameContext ctx = start_context(root);
    session.set_context(ctx);
    for (const auto& held : session.release(ctx.run)) {
      DecodeResult sub;
      DecodeCall held_call{call.options, call.scratch, call.sink, sub};
      try {
        decode_image(parse_map(held), ctx, held_call);
      } catch (const DecodeError& e) {
        note_reject(sub, e.reason(), e.what());
        ++sub.events_rejected;
      }
      r.events += sub.events;
      r.events_dropped += sub.events_dropped;
      r.events_rejected += sub.events_rejected;
      if (sub.reject) note_reject(r, *sub.reject, "parked image: " + sub.detail);
    }
  } else if (type == "image") {
    const std::string run = run_of(root);
    auto ctx = session.context_for(run);
    if (!ctx) {
      (void)image_dtype(root, nullptr);  // never park a malformed image
      r.held = true;
      r.held_evicted = session.hold(message, run);
      return;
    }
    decode_image(root, *ctx, call);
  } else if (type == "stop" || type == "end") {
    r.end_of_stream = true;
  } else {
    fail(RejectReason::kMalformed, "simplon: unknown message type '" + type + "'");
  }
}

std::vector<AuxArray> simplon_all_arrays(Bytes message, const DecoderOptions& options, SimplonSession& session) {
  const CborValue root = parse_map(message);
  std::vector<AuxArray> out;
  if (text_field(root, {"type"}, "message", true) != "image") return out;
  auto ctx = session.context_for(run_of(root));
  if (!ctx) fail(RejectReason::kMissingField, "simplon: image without a start message for its run");
  std::vector<std::byte> block;
  auto add = [&](const char* key, std::vector<uint64_t> shape, WireDType dtype) {
    AuxArray a;
    a.name = key;
    a.dtype = dtype;
    a.shape = std::move(shape);
    uint64_t n = dtype.size();
    for (uint64_t d : a.shape) n = checked_mul(n, d, key);
    if (n > options.max_decoded_bytes)
      fail(RejectReason::kOverSizeLimit, std::string("simplon: ") + key + " too large");
    a.bytes.resize(n);
    decode_payload(payload_field(root, key), a.shape, dtype, a.bytes.data(), block, key);
    if (dtype.big_endian) byteswap_inplace(a.bytes.data(), a.count(), dtype.size());
    a.dtype.big_endian = false;
    out.push_back(std::move(a));
  };
  add("compressed_data", ctx->shape, image_dtype(root, &*ctx));
  if (root.get("spectrometer_compressed_data")) {
    add("spectrometer_compressed_data",
        parse_shape(text_field(root, {"spectrometer_shape"}, "image", true), "spectrometer_shape"),
        dtype_named(text_field(root, {"spectrometer_dtype"}, "image", true), "spectrometer_dtype"));
  }
  return out;
}

}  // namespace peaknet::ingest
