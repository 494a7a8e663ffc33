#pragma once
// DecodeError: thrown inside the decoders, caught at Decoder::decode (which never throws).
#include <stdexcept>
#include <string>

#include "ingest/decode/reject_reason.hpp"

namespace peaknet::ingest {

class DecodeError : public std::runtime_error {
 public:
  DecodeError(RejectReason reason, const std::string& what) : std::runtime_error(what), reason_(reason) {}
  RejectReason reason() const noexcept { return reason_; }

 private:
  RejectReason reason_;
};

[[noreturn]] inline void fail(RejectReason reason, const std::string& what) { throw DecodeError(reason, what); }

}  // namespace peaknet::ingest
