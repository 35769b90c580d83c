/* placeholder until the module has code */
typedef int pare_interp_placeholder;
