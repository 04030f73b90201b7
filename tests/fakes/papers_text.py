"""Paper bodies as the real services serve them, for the full-text fakes: Hugging Face's `/papers/{id}.md`
(a full paper in markdown, or a stub of title and abstract) and arXiv's `/html/{id}` (LaTeXML's markup:
abstract, numbered sections and subsections, inline math with alttext, citations, figures and tables
with captions, a bibliography, appendices, the page's footer)."""

from __future__ import annotations

import html

# (title, paragraphs) of a paper's body sections, in order
Body = list[tuple[str, list[str]]]


def sample_body(words: int = 60) -> Body:
    """Six sections of ordinary prose, each paragraph about `words` words."""
    para = " ".join(f"token{i}" for i in range(words))
    names = ["Introduction", "Related Work", "Method", "Experiments", "Limitations", "Conclusion"]
    return [(name, [f"{name} paragraph {k}: {para}." for k in range(3)]) for name in names]


def paper_markdown(title: str, abstract: str, body: Body, *, appendix: str = "") -> str:
    """The markdown Hugging Face serves for a paper it has the text of."""
    parts = [f"# {title}", "", "## Abstract", "", abstract, ""]
    for number, (name, paragraphs) in enumerate(body, 1):
        parts += [f"## {number} {name}", ""]
        for paragraph in paragraphs:
            parts += [paragraph, ""]
    parts += ["## References", "", "[1] A. Vaswani et al. Attention is all you need. 2017.", ""]
    if appendix:
        parts += ["## A Proofs", "", appendix, ""]
    return "\n".join(parts)


def stub_markdown(title: str, abstract: str) -> str:
    """What Hugging Face serves for a paper it knows only the abstract of: headed, but short."""
    return f"# {title}\n\n## Abstract\n\n{abstract}\n\n## Links\n\n- arXiv: https://arxiv.org/abs/2509.00001\n"


def page_shell(title: str) -> str:
    """An HTML page where markdown was asked for: the site's shell, scripts and all (long, no headings)."""
    script = "window.__hf = {" + ", ".join(f'"k{i}": {i}' for i in range(400)) + "};"
    return f"<!doctype html><html><head><title>{title}</title><script>{script}</script></head><body></body></html>"


def _math(tex: str) -> str:
    escaped = html.escape(tex)
    return (
        f'<math alttext="{escaped}" class="ltx_Math" display="inline"><semantics><mi>x</mi>'
        f'<annotation encoding="application/x-tex">{escaped}</annotation></semantics></math>'
    )


def latexml_paper(title: str, abstract: str, body: Body, *, captions: tuple[str, ...] = (), appendix: str = "") -> str:
    """arXiv's HTML of a paper as LaTeXML writes it. The first section carries the figures (one per
    caption; a caption starting "Table" is a table) and a subsection; paragraphs end with x^{2} and a citation."""
    out = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        f"<title>[2509.00001] {html.escape(title)}</title></head><body>",
        '<nav class="ltx_page_navbar"><a href="#S1">1 Introduction</a></nav>',
        '<div class="ltx_page_main"><div class="ltx_page_content">',
        '<article class="ltx_document ltx_authors_1line">',
        f'<h1 class="ltx_title ltx_title_document">{html.escape(title)}</h1>',
        '<div class="ltx_authors"><span class="ltx_creator ltx_role_author"><span class="ltx_personname">'
        "Ada Lovelace</span></span></div>",
        '<div class="ltx_abstract"><h6 class="ltx_title ltx_title_abstract">Abstract</h6>',
        f'<p class="ltx_p" id="id1.id1">{html.escape(abstract)}</p></div>',
    ]
    for number, (name, paragraphs) in enumerate(body, 1):
        out.append(
            f'<section class="ltx_section" id="S{number}"><h2 class="ltx_title ltx_title_section">'
            f'<span class="ltx_tag ltx_tag_section">{number} </span>{html.escape(name)}</h2>'
        )
        for k, paragraph in enumerate(paragraphs, 1):
            out.append(
                f'<div class="ltx_para" id="S{number}.p{k}"><p class="ltx_p">{html.escape(paragraph)} with '
                f'{_math("x^{2}")} as in <cite class="ltx_cite ltx_citemacro_citep">(<a class="ltx_ref" '
                'href="#bib.bib1">Vaswani et al., 2017</a>)</cite></p></div>'
            )
            if number == 1 and k == 1:
                out += _figures(captions)
        if number == 1:
            out.append(
                '<section class="ltx_subsection" id="S1.SS1"><h3 class="ltx_title ltx_title_subsection">'
                '<span class="ltx_tag ltx_tag_subsection">1.1 </span>Setting</h3><div class="ltx_para">'
                '<p class="ltx_p">We fix the setting here.<span class="ltx_note ltx_role_footnote"><sup '
                'class="ltx_note_mark">1</sup><span class="ltx_note_outer"><span class="ltx_note_content">'
                "A footnote.</span></span></span></p></div></section>"
            )
        out.append("</section>")
    out.append(
        '<section class="ltx_bibliography" id="bib"><h2 class="ltx_title ltx_title_bibliography">References</h2>'
        '<ul class="ltx_biblist"><li class="ltx_bibitem" id="bib.bib1"><span class="ltx_tag ltx_tag_bibitem">'
        'Vaswani et al. (2017)</span><span class="ltx_bibblock">Attention is all you need.</span></li></ul></section>'
    )
    if appendix:
        out.append(
            '<section class="ltx_appendix" id="A1"><h2 class="ltx_title ltx_title_appendix"><span class="ltx_tag '
            f'ltx_tag_appendix">Appendix A </span>Proofs</h2><div class="ltx_para"><p class="ltx_p">'
            f"{html.escape(appendix)}</p></div></section>"
        )
    out.append('</article></div><footer class="ltx_page_footer">Generated by LaTeXML</footer></div></body></html>')
    return "".join(out)


def _figures(captions: tuple[str, ...]) -> list[str]:
    out = []
    for i, caption in enumerate(captions, 1):
        kind = "table" if caption.startswith("Table") else "figure"
        inner = (  # LaTeXML puts a table's or a figure panel's content in paragraphs of its own
            '<div class="ltx_inline-block"><p class="ltx_p">Model Score 81.2</p></div>'
            if kind == "table"
            else f'<p class="ltx_p ltx_figure_panel ltx_align_center"><img class="ltx_graphics" src="x{i}.png" '
            'alt="Refer to caption">Panel text</p>'
        )
        out.append(
            f'<figure class="ltx_{kind}" id="S1.F{i}">{inner}<figcaption class="ltx_caption ltx_centering">'
            f"{html.escape(caption)}</figcaption></figure>"
        )
    return out
