/* placeholder until the module has code */
typedef int pare_frontend_placeholder;
