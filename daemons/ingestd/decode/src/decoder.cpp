#include "ingest/decode/decoder.hpp"

#include <new>

#include "format_decoders.hpp"

namespace peaknet::ingest {

struct Decoder::Impl {
  DecoderOptions options;
  std::shared_ptr<SimplonSession> session;
  DecodeScratch scratch;
};

Decoder::Decoder(DecoderOptions options, std::shared_ptr<SimplonSession> session) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->session = session ? std::move(session) : std::make_shared<SimplonSession>(impl_->options);
}
Decoder::~Decoder() = default;
Decoder::Decoder(Decoder&&) noexcept = default;
Decoder& Decoder::operator=(Decoder&&) noexcept = default;

const DecoderOptions& Decoder::options() const noexcept { return impl_->options; }
const std::shared_ptr<SimplonSession>& Decoder::session() const noexcept { return impl_->session; }

DecodeResult Decoder::decode(std::span<const std::byte> message, EventSink& sink) {
  DecodeResult r;
  switch (impl_->options.format) {
    case ForcedFormat::kAuto:
      r.format = sniff(message);
      break;
    case ForcedFormat::kNpz:
      r.format = WireFormat::kNpz;
      break;
    case ForcedFormat::kHdf5:
      r.format = WireFormat::kHdf5;
      break;
    case ForcedFormat::kSimplonCbor:
      r.format = WireFormat::kSimplonCbor;
      break;
  }
  DecodeCall call{impl_->options, impl_->scratch, sink, r};
  try {
    switch (r.format) {
      case WireFormat::kNpz:
        decode_npz(message, call);
        break;
      case WireFormat::kHdf5:
        decode_hdf5(message, call);
        break;
      case WireFormat::kSimplonCbor:
        decode_simplon(message, call, *impl_->session);
        break;
      case WireFormat::kFastBinary:
        decode_fastbinary(message, call);
        break;
      case WireFormat::kUnknown:
        fail(RejectReason::kUnknownFormat, message.empty() ? "empty message"
                                                           : "no known magic in the first bytes of a " +
                                                                 std::to_string(message.size()) + "-byte message");
    }
  } catch (const DecodeError& e) {
    note_reject(r, e.reason(), e.what());
  } catch (const std::bad_alloc&) {
    note_reject(r, RejectReason::kOverSizeLimit, "out of memory while decoding");
  } catch (const std::exception& e) {
    note_reject(r, RejectReason::kMalformed, e.what());
  }
  return r;
}

}  // namespace peaknet::ingest
