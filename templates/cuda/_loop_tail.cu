{%- if k.stores_last %}
    // shared variables written by the scalar code: every block computed the same values from
    // the old ones; the last block to finish (all others have read them) stores them
    unsigned int* _sync = {{ k.sync }};
{% include "cuda/_last_block.cu" %}
{{ k.scalar_stores|block(1) }}
    }
{%- endif %}
