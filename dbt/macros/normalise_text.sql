{#- Duty texts compared for 职责交叉 (docs/methodology.md §10): Unicode NFKC, then without white space
    and punctuation. DuckDB has NFC only; NFKC's remaining difference for such texts is the
    full-width ASCII block (U+FF01–U+FF5E → U+0021–U+007E) and the ideographic space, mapped
    here, after which all punctuation, symbols and white space are removed. -#}
{% macro normalise_text(expression) -%}
    {%- set fullwidth = [] -%}
    {%- set ascii = [] -%}
    {%- for code in range(65281, 65375) -%}
        {%- do fullwidth.append(code) -%}
        {%- do ascii.append(code - 65248) -%}
    {%- endfor -%}
    regexp_replace(
        translate(
            nfc_normalize({{ expression }}),
            chr({{ fullwidth | join(') || chr(') }}) || chr(12288),
            chr({{ ascii | join(') || chr(') }}) || ' '
        ),
        '[\p{P}\p{S}\s]+', '', 'g'
    )
{%- endmacro %}
