#include "format/tree.h"

#include <algorithm>

#include "format/json_util.h"

namespace ferry {

namespace {
constexpr const char* kTypeNames[] = {"file",    "dir",      "symlink", "fifo",
                                      "chardev", "blockdev", "socket"};
}

const char* NodeTypeName(NodeType type) { return kTypeNames[static_cast<int>(type)]; }

Bytes EncodeTree(const Tree& tree) {
  nlohmann::json nodes = nlohmann::json::array();
  for (const Node& node : tree.nodes) {
    nlohmann::json j;
    PutByteString(j, "name", node.name);
    j["type"] = NodeTypeName(node.type);
    j["mode"] = node.mode;
    j["uid"] = node.uid;
    j["gid"] = node.gid;
    if (!node.user.empty()) PutByteString(j, "user", node.user);
    if (!node.group.empty()) PutByteString(j, "group", node.group);
    j["mtime"] = node.mtime_ns;
    j["ctime"] = node.ctime_ns;
    j["inode"] = node.inode;
    j["device"] = node.device;
    j["links"] = node.links;
    switch (node.type) {
      case NodeType::kFile: {
        j["size"] = node.size;
        nlohmann::json content = nlohmann::json::array();
        for (const Id& id : node.content) content.push_back(id.Hex());
        j["content"] = std::move(content);
        break;
      }
      case NodeType::kDirectory:
        j["subtree"] = node.subtree.Hex();
        break;
      case NodeType::kSymlink:
        PutByteString(j, "target", node.link_target);
        break;
      case NodeType::kCharDevice:
      case NodeType::kBlockDevice:
        j["rdev"] = node.rdev;
        break;
      default:
        break;
    }
    if (!node.xattrs.empty()) {
      nlohmann::json xattrs = nlohmann::json::array();
      for (const auto& [name, value] : node.xattrs) {
        nlohmann::json x;
        PutByteString(x, "name", name);
        x["value"] = Base64Encode(value);
        xattrs.push_back(std::move(x));
      }
      j["xattrs"] = std::move(xattrs);
    }
    nodes.push_back(std::move(j));
  }
  nlohmann::json document = {{"nodes", std::move(nodes)}};
  std::string text = document.dump();
  return Bytes(text.begin(), text.end());
}

namespace {
Result<Node> ParseNode(const nlohmann::json& j) {
  Node node;
  ASSIGN_OR_RETURN(node.name, GetByteString(j, "name"));
  if (node.name.empty() || node.name == "." || node.name == ".." ||
      node.name.find('/') != std::string::npos || node.name.find('\0') != std::string::npos)
    return Status::Corruption("tree node has an invalid name '" + node.name + "'");
  std::string type = j.at("type").get<std::string>();
  auto it = std::find(std::begin(kTypeNames), std::end(kTypeNames), type);
  if (it == std::end(kTypeNames)) return Status::Corruption("tree node has unknown type " + type);
  node.type = static_cast<NodeType>(it - std::begin(kTypeNames));
  ASSIGN_OR_RETURN(uint64_t mode, GetUnsigned(j, "mode", UINT32_MAX));
  node.mode = static_cast<uint32_t>(mode) & 07777;
  ASSIGN_OR_RETURN(uint64_t uid, GetUnsigned(j, "uid", UINT32_MAX));
  ASSIGN_OR_RETURN(uint64_t gid, GetUnsigned(j, "gid", UINT32_MAX));
  node.uid = static_cast<uint32_t>(uid);
  node.gid = static_cast<uint32_t>(gid);
  ASSIGN_OR_RETURN(node.user, GetByteString(j, "user"));
  ASSIGN_OR_RETURN(node.group, GetByteString(j, "group"));
  ASSIGN_OR_RETURN(node.mtime_ns, GetInteger(j, "mtime"));
  ASSIGN_OR_RETURN(node.ctime_ns, GetInteger(j, "ctime"));
  ASSIGN_OR_RETURN(node.inode, GetUnsigned(j, "inode"));
  ASSIGN_OR_RETURN(node.device, GetUnsigned(j, "device"));
  ASSIGN_OR_RETURN(node.links, GetUnsigned(j, "links"));
  switch (node.type) {
    case NodeType::kFile: {
      ASSIGN_OR_RETURN(node.size, GetUnsigned(j, "size"));
      for (const auto& hex : j.at("content")) {
        auto id = Id::FromHex(hex.get<std::string>());
        if (!id.ok()) return Status::Corruption("tree node content: " + id.status().message());
        node.content.push_back(*id);
      }
      break;
    }
    case NodeType::kDirectory: {
      ASSIGN_OR_RETURN(node.subtree, GetId(j, "subtree"));
      break;
    }
    case NodeType::kSymlink: {
      ASSIGN_OR_RETURN(node.link_target, GetByteString(j, "target"));
      break;
    }
    case NodeType::kCharDevice:
    case NodeType::kBlockDevice: {
      ASSIGN_OR_RETURN(node.rdev, GetUnsigned(j, "rdev"));
      break;
    }
    default:
      break;
  }
  if (auto xattrs = j.find("xattrs"); xattrs != j.end()) {
    for (const auto& x : *xattrs) {
      ASSIGN_OR_RETURN(std::string name, GetByteString(x, "name"));
      ASSIGN_OR_RETURN(Bytes value, Base64Decode(x.at("value").get<std::string>()));
      node.xattrs.emplace_back(std::move(name), std::move(value));
    }
  }
  return node;
}
}  // namespace

Result<Tree> ParseTree(ByteView json) {
  ASSIGN_OR_RETURN(nlohmann::json document, ParseJson(json, "tree"));
  Tree tree;
  try {
    for (const auto& j : document.at("nodes")) {
      ASSIGN_OR_RETURN(Node node, ParseNode(j));
      if (!tree.nodes.empty() && tree.nodes.back().name >= node.name)
        return Status::Corruption("tree nodes are not sorted or have duplicate names");
      tree.nodes.push_back(std::move(node));
    }
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(std::string("tree: ") + e.what());
  }
  return tree;
}

}  // namespace ferry
