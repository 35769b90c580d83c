/* placeholder until the module has code */
typedef int pare_passes_placeholder;
