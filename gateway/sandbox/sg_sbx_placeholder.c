/* placeholder */ typedef int sg_sbx_placeholder_t;
