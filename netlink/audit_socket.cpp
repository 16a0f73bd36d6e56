// STUB: replaced by the netlink reader.
namespace aurelay::netlink {}
