"""Boilerplate inside the article body (fact boxes, teasers, closing notes, datelines) is left
out, while the story's own text is kept, and the standfirst and the title come out whole.

The pages are small invented ones built around the markup patterns found on real news pages;
the real pages themselves are scored by tests/test_extraction_devset.py.
"""

from __future__ import annotations

from lxml import html as lxml_html

from pipelines.normalize.evaluation import tokens
from pipelines.normalize.extract import _strip_site_name, extract_article, prune_link_blocks

STORY = [
    "The city council voted on Tuesday to rebuild the old harbour bridge before the winter storms.",
    "Engineers had warned for years that the steel beams under the eastern lane were rusting through.",
    "The mayor said the work would begin in March and take about eighteen months to finish.",
    "Residents of the island districts will get a free ferry service while the bridge is closed.",
    "The opposition asked why the council had waited until the last inspection failed completely.",
    "A report from the regional transport office put the cost at about forty million euros.",
    "Shop owners near the harbour fear that fewer visitors will come during the long closure.",
    "The council promised a second vote on the ferry timetable before the end of the month.",
]


def page(article: str, *, head: str = "", outside: str = "") -> str:
    return (f"<html><head><title>Harbour bridge to be rebuilt</title>{head}</head><body>"
            f"<nav><a href='/'>Home</a> <a href='/news'>News</a></nav><main><article>"
            f"<h1>Harbour bridge to be rebuilt</h1>{article}</article></main>{outside}"
            f"<footer>Contact us</footer></body></html>")


def paragraphs(lines: list[str] = STORY) -> str:
    return "".join(f"<p>{line}</p>" for line in lines)


def body_of(html: str) -> str:
    return extract_article(html, "https://news.example/2024/05/harbour-bridge").body


def test_a_fact_box_marked_by_its_class_is_left_out():
    box = ("<div class='c-infobox'><h3>Facts</h3><p>The bridge opened in 1931 and carries"
           " twelve thousand cars on a normal working day.</p></div>")
    modal = ("<div class='save-modal-dropdown'><p>Saving articles is a feature for subscribers"
             " only, so subscribe today and read every story on the harbour.</p></div>")
    body = body_of(page(paragraphs(STORY[:4]) + box + paragraphs(STORY[4:6]) + modal + paragraphs(STORY[6:])))
    assert "twelve thousand cars" not in body
    assert "subscribers" not in body
    assert all(line in body for line in STORY)


def test_a_wrapper_named_like_a_box_that_holds_the_story_is_kept():
    body = body_of(page(f"<div class='article-related-wrapper'>{paragraphs()}</div>"))
    assert all(line in body for line in STORY)


def test_an_aside_inside_the_article_is_left_out():
    aside = "<aside><p>Read our weekly newsletter about the city council and its many votes.</p></aside>"
    body = body_of(page(paragraphs(STORY[:5]) + aside + paragraphs(STORY[5:])))
    assert "weekly newsletter" not in body


def test_a_caption_in_one_box_with_a_picture_is_left_out_but_not_a_paragraph_with_an_emoji():
    photo = ("<p><img src='/bridge.jpg' width='1200' height='800'><br>"
             "<em>The old bridge seen from the ferry terminal in April</em></p>")
    widget = ("<div class='image-widget'><span><picture><img src='/mayor.jpg'></picture></span>"
              "<p>The mayor at the town hall</p><p>Image: City of Harbour</p></div>")
    emoji = "<img class='emoji' src='/smile.png'>"
    lines = [*STORY[:3], STORY[3] + emoji, *STORY[4:]]
    body = body_of(page(paragraphs(lines[:2]) + photo + paragraphs(lines[2:5]) + widget + paragraphs(lines[5:])))
    assert "ferry terminal" not in body and "town hall" not in body and "Image:" not in body
    assert all(line in body for line in STORY)


def test_link_blocks_go_with_their_labels_however_indented():
    pad = "\n" + " " * 40
    tags = (f"<ul class='labels'>{pad}<li>Tags of this story : </li>{pad}<li><span>News</span></li>"
            + "".join(f"{pad}<li>{pad}<a href='/t/{t}'>{pad}{t}{pad}</a>{pad}</li>" for t in ("Harbour", "Council", "Ferries"))
            + "</ul>")
    related = ("<div><h3>More on this</h3><ul><li><a href='/1'>Ferry prices to rise in the new year</a></li>"
               "<li><a href='/2'>Island schools ask for a later start</a></li></ul></div>")
    label = "<p><strong>READ ANOTHER STORY FROM THE HARBOUR HERE |</strong> <a href='/3'>Ferries to run all night</a></p>"
    body = body_of(page(paragraphs(STORY[:3]) + label + paragraphs(STORY[3:6]) + related
                        + paragraphs(STORY[6:]) + tags))
    for gone in ("Tags of this story", "Council\n", "More on this", "Ferry prices", "ANOTHER STORY", "all night"):
        assert gone not in body
    assert all(line in body for line in STORY)
    # the label goes with the list it names (trafilatura keeps a lone label in some layouts)
    tree = lxml_html.fromstring(page(paragraphs() + related))
    prune_link_blocks(tree)
    assert "More on this" not in tree.text_content()


def test_closing_italic_notes_go_but_italic_text_followed_by_the_story_stays():
    opening = "<p><em>The mayor spoke to reporters outside the town hall on a rainy afternoon.</em></p>"
    closing = ("<p><em>With files from the regional news agency and our correspondent in the"
               " harbour district.</em></p>")
    body = body_of(page(opening + paragraphs() + closing))
    assert "The mayor spoke to reporters" in body
    assert "With files from" not in body
    assert all(line in body for line in STORY)


def test_a_closing_note_in_italics_split_by_its_link_goes():
    note = ("<section><p><em>Our evening newsletter brings the day's news from the harbour to"
            " your inbox. </em><a href='/newsletter'><em>Sign up here!</em></a></p></section>")
    body = body_of(page(f"<section>{paragraphs()}</section>" + note))
    assert "newsletter" not in body and "Sign up" not in body
    assert all(line in body for line in STORY)


def test_repeated_headlines_datelines_and_copyright_lines_are_not_body_text():
    furniture = ["<p>Harbour bridge to be rebuilt</p>", "<p>Updated 15.59 | Published 14.14</p>",
                 "<p>17:41 CET, May 13, 2024</p>"]
    body = body_of(page("".join(furniture) + paragraphs()
                        + "<p>© News Agency 2024, all rights reserved.</p>"))
    assert body.startswith(STORY[0])
    assert "15.59" not in body and "17:41" not in body and "©" not in body


def test_a_time_of_day_inside_a_real_sentence_is_kept():
    line = "11.39 Uhr: The first ferry left the harbour with two hundred passengers on board."
    body = body_of(page(paragraphs(STORY[:4]) + f"<p>{line}</p>" + paragraphs(STORY[4:])))
    assert line in body


def test_the_standfirst_is_found_when_the_summary_has_a_label_and_odd_spaces():
    lead = ("Rebuilding the harbour bridge will close the main road to the islands for a year"
            " and a half, the council decided.")
    summary = "City News: " + lead.replace("main road", "main\u00a0road").replace(" the council", "  the council")
    html = page(f"<div class='top'><span>{lead}</span></div>" + paragraphs(),
                head=f"<meta name='description' content='{summary}'>")
    assert body_of(html).startswith(lead)


def test_a_standfirst_marked_by_its_class_is_restored_but_not_a_box_below_the_story():
    lead = ("Rebuilding the harbour bridge will close the main road to the islands for a year"
            " and a half, the council decided.")
    prompt = "<div class='comments-summary'>You must be logged in to read more comments and to write one.</div>"
    html = ("<html><head><title>Harbour bridge</title></head><body><main><article>"
            f"<header class='article-header'><h1>Harbour bridge to be rebuilt</h1>"
            f"<div class='article-lead'>{lead}</div></header>"
            f"<section class='article-content'>{paragraphs()}</section>{prompt}"
            "</article></main></body></html>")
    body = body_of(html)
    assert body.startswith(lead)
    assert "logged in" not in body
    # no standfirst on the page: a box marked 'summary' after the story's start is not one
    assert "logged in" not in body_of(html.replace(f"<div class='article-lead'>{lead}</div>", ""))


def test_the_site_name_is_cut_with_the_parts_after_it():
    assert _strip_site_name("Bridge to close | The Daily Harbour | by Ann Lee", "The Daily Harbour",
                            "https://dailyharbour.example/a") == "Bridge to close"
    assert _strip_site_name("橋を再建へ：港新聞デジタル", "港新聞デジタル", "https://minato.example/a") == "橋を再建へ"
    assert _strip_site_name("Most bude opraven - Přístavní Zprávy", "", "https://pristavnizpravy.example/a"
                            ) == "Most bude opraven"
    # a last part that does not name the site is part of the headline
    assert _strip_site_name("Bridge: the vote - what comes next", "Harbour", "https://harbour.example/a"
                            ) == "Bridge: the vote - what comes next"


def _titled(head: str, h1: str) -> tuple[str, str]:
    html = (f"<html><head>{head}</head><body><main><article><h1>{h1}</h1>{paragraphs()}"
            "</article></main></body></html>")
    article = extract_article(html, "https://news.example/2024/05/harbour-bridge")
    return article.title, article.sources["title"]


def _json_ld(headline: str) -> str:
    return f'<script type="application/ld+json">{{"@type": "NewsArticle", "headline": "{headline}"}}</script>'


def test_og_title_wins_over_a_json_ld_headline_that_went_through_an_html_filter():
    og = """<meta property="og:title" content='Mayor&#39;s bridge: "Not a day too soon"'>"""
    filtered = _json_ld("Mayor&#8217;s bridge &#8211; &quot;Not a day too soon&quot;")
    assert _titled(filtered + og, "Bridge") == ('Mayor\'s bridge: "Not a day too soon"', "og")
    # the same headline in plain JSON: the JSON-LD one is kept, typographic apostrophe and all
    assert _titled(_json_ld("Mayor\u2019s bridge: \\\"Not a day too soon\\\"") + og, "Bridge")[1] == "json-ld"
    # entities, but other words than og:title: nothing says which of two headlines is meant
    assert _titled(_json_ld("Harbour bridge &#8211; a vote") + og, "Bridge")[1] == "json-ld"


def test_the_headline_shared_after_two_different_kickers_is_the_title():
    head = "<meta property='og:title' content='Council vote: Harbour bridge to be rebuilt by spring'>"
    assert _titled(head, "City news - Harbour bridge to be rebuilt by spring") == (
        "Harbour bridge to be rebuilt by spring", "og+h1-shared")
    # the <h1> is the statement with a label before it: the statement stays whole
    assert _titled(head, "City Council vote: Harbour bridge to be rebuilt by spring")[0] == (
        "Council vote: Harbour bridge to be rebuilt by spring")
    # the common end does not start after a cut in the <h1>: no kicker to leave out
    assert _titled(head, "Vote Harbour bridge to be rebuilt by spring")[0] == (
        "Council vote: Harbour bridge to be rebuilt by spring")


def test_scoring_ignores_soft_hyphens_and_zero_width_characters():
    assert tokens("Brenn\u00adpunkt und Null\u200bbreite") == ["brennpunkt", "und", "nullbreite"]
