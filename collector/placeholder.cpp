// STUB
namespace aurelay::collector {}
