#include <stdio.h>
int main(void) {
  puts("pare");
  return 0;
}
