#include "ingest/decode/decoder_options.hpp"

#include "common/config/config_error.hpp"
#include "wire_dtype.hpp"

namespace peaknet::ingest {

DecoderOptions DecoderOptions::from_config(config::ConfigNode node) {
  DecoderOptions o;
  const std::string format = node.get_enum("format", "auto", {"auto", "npz", "hdf5", "simplon"});
  o.format = format == "npz"       ? ForcedFormat::kNpz
             : format == "hdf5"    ? ForcedFormat::kHdf5
             : format == "simplon" ? ForcedFormat::kSimplonCbor
                                   : ForcedFormat::kAuto;
  const std::string pad = node.get_enum("pad_mode", "center", {"center", "bottom_right"});
  o.pad_mode = pad == "center" ? PadMode::kCenter : PadMode::kBottomRight;
  o.max_decoded_bytes =
      static_cast<uint64_t>(node.get_int("max_decoded_bytes", static_cast<int64_t>(o.max_decoded_bytes), 1));

  config::ConfigNode npz = node.child("npz");
  o.npz_detector_key = npz.get_string("detector_key", o.npz_detector_key);
  o.npz_timestamp_key = npz.get_string("timestamp_key", o.npz_timestamp_key);
  o.npz_wavelength_key = npz.get_string("wavelength_key", o.npz_wavelength_key);
  o.npz_original_shape_key = npz.get_string("original_shape_key", o.npz_original_shape_key);
  npz.finish();

  config::ConfigNode h5 = node.child("hdf5");
  o.hdf5_detector_paths = h5.get_string_list("detector_paths", o.hdf5_detector_paths);
  o.hdf5_detector_fallback = h5.get_bool("detector_fallback", o.hdf5_detector_fallback);
  o.hdf5_timestamp_paths = h5.get_string_list("timestamp_paths", o.hdf5_timestamp_paths);
  o.hdf5_wavelength_paths = h5.get_string_list("wavelength_paths", o.hdf5_wavelength_paths);
  o.hdf5_isolate = h5.get_bool("isolate", o.hdf5_isolate);
  o.hdf5_parse_timeout_ms = static_cast<uint32_t>(h5.get_int("parse_timeout_ms", o.hdf5_parse_timeout_ms, 1, 3600000));
  h5.finish();

  config::ConfigNode simplon = node.child("simplon");
  o.simplon_hold_max_messages =
      static_cast<uint32_t>(simplon.get_int("hold_max_messages", o.simplon_hold_max_messages, 0, 1 << 20));
  o.simplon_hold_max_bytes =
      static_cast<uint64_t>(simplon.get_int("hold_max_bytes", static_cast<int64_t>(o.simplon_hold_max_bytes), 0));
  o.simplon_default_shape = simplon.get_int_list("default_shape", {}, 1, 1 << 20);
  o.simplon_default_dtype = simplon.get_string("default_dtype", "");
  if (!o.simplon_default_dtype.empty() && !parse_numpy_name(o.simplon_default_dtype)) {
    throw config::ConfigError(simplon.key_path("default_dtype"), "unknown dtype '" + o.simplon_default_dtype + "'");
  }
  if (o.simplon_default_shape.size() == 1 || o.simplon_default_shape.size() > 3) {
    throw config::ConfigError(simplon.key_path("default_shape"), "must be [H, W] or [C, H, W]");
  }
  simplon.finish();
  node.finish();
  return o;
}

}  // namespace peaknet::ingest
