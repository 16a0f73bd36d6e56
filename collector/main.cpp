// STUB: replaced by the command line.
#include <cstdio>
int main() { std::puts("aurelay"); return 0; }
