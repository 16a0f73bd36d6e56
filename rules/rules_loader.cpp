// STUB: replaced by the rules loader.
namespace aurelay::rules {}
