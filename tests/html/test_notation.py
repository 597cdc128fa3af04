"""The hints' plain-text math as HTML: subscripts, hats, powers, the indicator; code names and markup untouched."""

from __future__ import annotations

import pytest

from grader.report.html.notation import math_html

HAT_Y = '<span class="hat">y\u0302</span>'


@pytest.mark.parametrize("text, html", [
    pytest.param("p_i(1 - p_i)", "p<sub>i</sub>(1 - p<sub>i</sub>)", id="subscript"),
    pytest.param("delta_ij - p_j", "\u03b4<sub>ij</sub> - p<sub>j</sub>", id="kronecker-delta"),
    pytest.param("yhat(t) = softmax(o(t))", f"{HAT_Y}(t) = softmax(o(t))", id="hat"),
    pytest.param("yhat_i(t)", f"{HAT_Y}<sub>i</sub>(t)", id="hat-with-subscript"),
    pytest.param("1_{i=y}", '<span class="indicator">1</span><sub>i=y</sub>', id="indicator"),
    pytest.param("1_{i=y(t)}", '<span class="indicator">1</span><sub>i=y(t)</sub>', id="indicator-in-time"),
    pytest.param("dL/dz_i", "dL/dz<sub>i</sub>", id="derivative"),
    pytest.param("grad_{h(t)} L", "\u2207<sub>h(t)</sub> L", id="gradient"),
    pytest.param("sum_j s_j", "\u2211<sub>j</sub> s<sub>j</sub>", id="sum"),
    pytest.param("W^T da(t+1)", "W<sup>T</sup> da(t+1)", id="transpose"),
    pytest.param("(1 - h)^2 and 1 - a(t)^2", "(1 - h)<sup>2</sup> and 1 - a(t)<sup>2</sup>", id="square"),
    pytest.param("i != j", "i \u2260 j", id="not-equal"),
])
def test_the_seeds_notation_is_typeset(text, html):
    assert math_html(text) == html


@pytest.mark.parametrize("text", [
    "rnn_forward", "cross_entropy_grad_batch", "bptt_truncate = 4", "np.clip(dparam, -5, 5)",
    "scipy.special.softmax with axis=None", "what that chat", "dW_uses_current_h", "s - sum(s)",
])
def test_python_names_and_words_are_left_alone(text):
    assert math_html(text) == text


def test_markup_is_escaped_before_anything_is_typeset():
    html = math_html('<script>alert("p_i")</script> & x_<b>')
    assert html == "&lt;script&gt;alert(&#34;p<sub>i</sub>&#34;)&lt;/script&gt; &amp; x_&lt;b&gt;"
    assert math_html("1_{<img src=x>}") == '<span class="indicator">1</span><sub>&lt;img src=x&gt;</sub>'
