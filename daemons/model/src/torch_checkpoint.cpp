#include "model/torch_checkpoint.hpp"

#include <caffe2/serialize/inline_container.h>

#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <stdexcept>
#include <variant>

namespace peaknet::model {
namespace {

// Python values that torch.save's state_dict pickles contain.
struct Value;
using ValuePtr = std::shared_ptr<Value>;
struct Global {
  std::string name;
};  // "module qualname"
struct Mark {};
struct StorageRef {
  torch::ScalarType dtype;
  std::string key;
  int64_t numel;
};
struct Dict {
  std::vector<std::pair<ValuePtr, ValuePtr>> items;
};
struct Value {
  std::variant<std::monostate, bool, int64_t, double, std::string, std::vector<ValuePtr>, Dict, Global, Mark,
               StorageRef, torch::Tensor>
      v;
};
template <class T>
ValuePtr make(T x) {
  auto p = std::make_shared<Value>();
  p->v = std::move(x);
  return p;
}

torch::ScalarType storage_dtype(const std::string& global) {
  static const std::map<std::string, torch::ScalarType> types{
      {"torch DoubleStorage", torch::kDouble}, {"torch FloatStorage", torch::kFloat},
      {"torch HalfStorage", torch::kHalf},     {"torch BFloat16Storage", torch::kBFloat16},
      {"torch LongStorage", torch::kLong},     {"torch IntStorage", torch::kInt},
      {"torch ShortStorage", torch::kShort},   {"torch CharStorage", torch::kChar},
      {"torch ByteStorage", torch::kByte},     {"torch BoolStorage", torch::kBool}};
  auto it = types.find(global);
  if (it == types.end()) throw std::runtime_error("unsupported storage type '" + global + "'");
  return it->second;
}

class Unpickler {
 public:
  Unpickler(const std::string& pickle, caffe2::serialize::PyTorchStreamReader& archive)
      : data_(pickle), archive_(archive) {}

  ValuePtr run() {
    for (;;) {
      const uint8_t op = u8();
      switch (op) {
        case 0x80:
          u8();
          break;  // PROTO
        case 0x95:
          pos_ += 8;
          break;  // FRAME
        case '.':
          return pop();  // STOP
        case 'c': {      // GLOBAL
          std::string module = line(), name = line();
          push(make(Global{module + " " + name}));
          break;
        }
        case 'q':
          memo_[u8()] = top();
          break;  // BINPUT
        case 'r':
          memo_[u32()] = top();
          break;  // LONG_BINPUT
        case 0x94:
          memo_[memo_.size()] = top();
          break;  // MEMOIZE
        case 'h':
          push(memo(u8()));
          break;  // BINGET
        case 'j':
          push(memo(u32()));
          break;  // LONG_BINGET
        case '(':
          push(make(Mark{}));
          break;  // MARK
        case ')':
          push(make(std::vector<ValuePtr>{}));
          break;  // EMPTY_TUPLE
        case ']':
          push(make(std::vector<ValuePtr>{}));
          break;  // EMPTY_LIST
        case '}':
          push(make(Dict{}));
          break;  // EMPTY_DICT
        case 't':
          push(make(pop_to_mark()));
          break;  // TUPLE
        case 0x85: {
          auto a = pop();
          push(make(std::vector<ValuePtr>{a}));
          break;
        }  // TUPLE1
        case 0x86: {
          auto b = pop(), a = pop();
          push(make(std::vector<ValuePtr>{a, b}));
          break;
        }  // TUPLE2
        case 0x87: {
          auto c = pop(), b = pop(), a = pop();
          push(make(std::vector<ValuePtr>{a, b, c}));
          break;
        }
        case 'N':
          push(make(std::monostate{}));
          break;  // NONE
        case 0x88:
          push(make(true));
          break;  // NEWTRUE
        case 0x89:
          push(make(false));
          break;  // NEWFALSE
        case 'K':
          push(make(static_cast<int64_t>(u8())));
          break;  // BININT1
        case 'M':
          push(make(static_cast<int64_t>(u16())));
          break;  // BININT2
        case 'J':
          push(make(static_cast<int64_t>(static_cast<int32_t>(u32()))));
          break;  // BININT
        case 0x8a:
          push(make(long1()));
          break;  // LONG1
        case 'G':
          push(make(binfloat()));
          break;  // BINFLOAT
        case 'X':
          push(make(bytes(u32())));
          break;  // BINUNICODE
        case 0x8c:
          push(make(bytes(u8())));
          break;  // SHORT_BINUNICODE
        case 's': {
          auto v = pop(), k = pop();
          as_dict(top()).items.emplace_back(k, v);
          break;
        }            // SETITEM
        case 'u': {  // SETITEMS
          auto items = pop_to_mark();
          for (size_t i = 0; i + 1 < items.size(); i += 2) as_dict(top()).items.emplace_back(items[i], items[i + 1]);
          break;
        }
        case 'a': {
          auto v = pop();
          as_list(top()).push_back(v);
          break;
        }  // APPEND
        case 'e': {
          auto items = pop_to_mark();
          for (auto& v : items) as_list(top()).push_back(v);
          break;
        }
        case 'b':
          pop();
          break;  // BUILD: state of an OrderedDict (_metadata) or a tensor; not needed
        case 'Q':
          push(persistent_load(pop()));
          break;  // BINPERSID
        case 'R': {
          auto args = pop(), fn = pop();
          push(reduce(*fn, *args));
          break;
        }  // REDUCE
        default:
          throw std::runtime_error("unsupported pickle opcode 0x" + hex(op) + " at byte " + std::to_string(pos_ - 1));
      }
    }
  }

 private:
  static std::string hex(uint8_t b) {
    const char* d = "0123456789abcdef";
    return {d[b >> 4], d[b & 15]};
  }
  void need(size_t n) const {
    if (pos_ + n > data_.size()) throw std::runtime_error("truncated pickle");
  }
  uint8_t u8() {
    need(1);
    return static_cast<uint8_t>(data_[pos_++]);
  }
  uint16_t u16() {
    uint16_t v = u8();
    return static_cast<uint16_t>(v | (u8() << 8));
  }
  uint32_t u32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(u8()) << (8 * i);
    return v;
  }
  std::string bytes(size_t n) {
    need(n);
    std::string s = data_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::string line() {
    const size_t end = data_.find('\n', pos_);
    if (end == std::string::npos) throw std::runtime_error("truncated pickle");
    std::string s = data_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return s;
  }
  int64_t long1() {
    const size_t n = u8();
    if (n > 8) throw std::runtime_error("integer too large in pickle");
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(u8()) << (8 * i);
    if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~uint64_t{0} << (8 * n);  // sign-extend
    return static_cast<int64_t>(v);
  }
  double binfloat() {  // big-endian IEEE double
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | u8();
    double d;
    std::memcpy(&d, &v, 8);
    return d;
  }
  void push(ValuePtr v) { stack_.push_back(std::move(v)); }
  ValuePtr pop() {
    if (stack_.empty()) throw std::runtime_error("pickle stack underflow");
    auto v = stack_.back();
    stack_.pop_back();
    return v;
  }
  ValuePtr& top() {
    if (stack_.empty()) throw std::runtime_error("pickle stack underflow");
    return stack_.back();
  }
  ValuePtr memo(size_t i) {
    auto it = memo_.find(i);
    if (it == memo_.end()) throw std::runtime_error("pickle memo miss");
    return it->second;
  }
  std::vector<ValuePtr> pop_to_mark() {
    std::vector<ValuePtr> items;
    for (;;) {
      auto v = pop();
      if (std::holds_alternative<Mark>(v->v)) break;
      items.insert(items.begin(), v);
    }
    return items;
  }
  static Dict& as_dict(ValuePtr& v) {
    if (auto* d = std::get_if<Dict>(&v->v)) return *d;
    throw std::runtime_error("pickle: SETITEM on a non-dict");
  }
  static std::vector<ValuePtr>& as_list(ValuePtr& v) {
    if (auto* l = std::get_if<std::vector<ValuePtr>>(&v->v)) return *l;
    throw std::runtime_error("pickle: APPEND on a non-list");
  }
  static const std::vector<ValuePtr>& tuple(const Value& v) {
    if (auto* t = std::get_if<std::vector<ValuePtr>>(&v.v)) return *t;
    throw std::runtime_error("pickle: expected a tuple");
  }
  static int64_t integer(const ValuePtr& v) {
    if (auto* i = std::get_if<int64_t>(&v->v)) return *i;
    throw std::runtime_error("pickle: expected an integer");
  }
  static std::vector<int64_t> ints(const ValuePtr& v) {
    std::vector<int64_t> out;
    for (const auto& e : tuple(*v)) out.push_back(integer(e));
    return out;
  }

  // ('storage', <storage type global>, key, location, numel)
  ValuePtr persistent_load(const ValuePtr& pid) {
    const auto& t = tuple(*pid);
    if (t.size() != 5 || !std::holds_alternative<std::string>(t[0]->v) || std::get<std::string>(t[0]->v) != "storage" ||
        !std::holds_alternative<Global>(t[1]->v) || !std::holds_alternative<std::string>(t[2]->v))
      throw std::runtime_error("unsupported persistent id (not a tensor storage)");
    return make(
        StorageRef{storage_dtype(std::get<Global>(t[1]->v).name), std::get<std::string>(t[2]->v), integer(t[4])});
  }

  torch::Tensor storage_tensor(const StorageRef& ref) {
    auto it = storages_.find(ref.key);
    if (it != storages_.end()) return it->second;
    const std::string record = "data/" + ref.key;
    if (!archive_.hasRecord(record)) throw std::runtime_error("archive lacks storage record '" + record + "'");
    auto [ptr, size] = archive_.getRecord(record);
    const size_t want = static_cast<size_t>(ref.numel) * c10::elementSize(ref.dtype);
    if (size != want)
      throw std::runtime_error("storage '" + record + "' has " + std::to_string(size) + " bytes, expected " +
                               std::to_string(want));
    torch::Tensor flat = torch::empty({ref.numel}, torch::TensorOptions().dtype(ref.dtype));
    if (want > 0) std::memcpy(flat.data_ptr(), ptr.get(), want);
    storages_[ref.key] = flat;
    return flat;
  }

  ValuePtr reduce(const Value& fn, const Value& args) {
    const auto* g = std::get_if<Global>(&fn.v);
    if (!g) throw std::runtime_error("pickle: REDUCE on a non-global");
    const auto& a = tuple(args);
    if (g->name == "collections OrderedDict" || g->name == "builtins dict") return make(Dict{});
    if (g->name == "torch._utils _rebuild_tensor_v2" || g->name == "torch._utils _rebuild_tensor") {
      if (a.size() < 4 || !std::holds_alternative<StorageRef>(a[0]->v))
        throw std::runtime_error("pickle: malformed _rebuild_tensor_v2 arguments");
      torch::Tensor storage = storage_tensor(std::get<StorageRef>(a[0]->v));
      const int64_t offset = integer(a[1]);
      const auto size = ints(a[2]), stride = ints(a[3]);
      if (size.size() != stride.size()) throw std::runtime_error("pickle: size/stride rank mismatch");
      int64_t last = offset, numel = 1;  // bounds check of the strided view
      for (size_t i = 0; i < size.size(); ++i) {
        if (size[i] < 0 || stride[i] < 0) throw std::runtime_error("pickle: negative size or stride");
        numel *= size[i];
        if (size[i] > 0) last += (size[i] - 1) * stride[i];
      }
      if (offset < 0 || (numel > 0 && last >= storage.numel()))
        throw std::runtime_error("pickle: tensor view exceeds its storage");
      return make(storage.as_strided(size, stride, offset).clone(at::MemoryFormat::Contiguous));
    }
    if (g->name == "torch._utils _rebuild_parameter" || g->name == "torch._utils _rebuild_parameter_with_state") {
      if (a.empty() || !std::holds_alternative<torch::Tensor>(a[0]->v))
        throw std::runtime_error("pickle: malformed _rebuild_parameter arguments");
      return a[0];
    }
    throw std::runtime_error("unsupported object '" + g->name + "' in checkpoint (only dicts of tensors are read)");
  }

  const std::string& data_;
  size_t pos_ = 0;
  caffe2::serialize::PyTorchStreamReader& archive_;
  std::vector<ValuePtr> stack_;
  std::map<size_t, ValuePtr> memo_;
  std::map<std::string, torch::Tensor> storages_;
};

void flatten(const Value& v, const std::string& prefix, NamedTensors& out) {
  if (const auto* t = std::get_if<torch::Tensor>(&v.v)) {
    out.emplace_back(prefix, *t);
  } else if (const auto* d = std::get_if<Dict>(&v.v)) {
    for (const auto& [k, val] : d->items)
      if (const auto* key = std::get_if<std::string>(&k->v))
        flatten(*val, prefix.empty() ? *key : prefix + "." + *key, out);
  }
}

}  // namespace

bool is_zip_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && std::memcmp(magic, "PK\x03\x04", 4) == 0;
}

NamedTensors read_torch_checkpoint(const std::string& path) {
  try {
    if (!is_zip_file(path)) throw std::runtime_error("not a zip archive (legacy torch.save format is not supported)");
    caffe2::serialize::PyTorchStreamReader archive(path);
    auto [ptr, size] = archive.getRecord("data.pkl");
    const std::string pickle(static_cast<const char*>(ptr.get()), size);
    Unpickler unpickler(pickle, archive);
    ValuePtr root = unpickler.run();
    NamedTensors out;
    flatten(*root, "", out);
    if (out.empty()) throw std::runtime_error("no tensors found (expected a state_dict)");
    return out;
  } catch (const std::exception& e) {
    throw std::runtime_error("torch checkpoint '" + path + "': " + e.what() +
                             " (convert it with scripts/convert_checkpoint.py to safetensors)");
  }
}

}  // namespace peaknet::model
