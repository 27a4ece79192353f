"""Built-in calibration pairs for static int8 quantization: generic English questions against short encyclopaedic
passages of many topics, relevant and not, single and joined (so pairs run from about 60 tokens to about 450,
past most windows, where they are cut as in scoring). They only set the activation ranges of the quantized
layers; calibrating on a few hundred pairs of your own domain (``crossrank export-openvino --calibration FILE``)
fits them better."""

from __future__ import annotations

QUERIES: tuple[str, ...] = (
    "how do vaccines train the immune system",
    "what causes the seasons on earth",
    "effects of interest rates on inflation",
    "when was the printing press invented",
    "how does a transformer neural network work",
    "symptoms and treatment of type 2 diabetes",
    "why do leaves change colour in autumn",
    "what is the difference between a contract and an agreement",
    "how are volcanoes formed",
    "best way to store fresh bread",
)

PASSAGES: tuple[str, ...] = (
    "Vaccines expose the immune system to a harmless piece or weakened form of a pathogen. B cells learn to make "
    "antibodies against it and memory cells persist for years, so a later infection is met by a fast, strong "
    "response before the disease can take hold.",
    "The seasons are caused by the tilt of the Earth's axis, about 23.4 degrees relative to its orbit. When a "
    "hemisphere leans toward the Sun it receives more direct sunlight and longer days, producing summer; six "
    "months later it leans away and has winter.",
    "Central banks raise interest rates to slow inflation. Higher rates make borrowing more expensive, which cools "
    "spending and investment, reduces demand for goods and services, and over several quarters eases the pressure "
    "on prices, often at the cost of slower growth.",
    "Johannes Gutenberg introduced movable-type printing in Mainz around 1440. His press combined metal type, an "
    "oil-based ink and a screw press adapted from wine making, and the Gutenberg Bible of about 1455 showed that "
    "books could be produced in large numbers.",
    "A transformer processes a sequence with layers of self-attention and feed-forward networks. Each token "
    "computes weighted combinations of every other token's representation, so the model learns which words matter "
    "to each other regardless of distance, and training runs in parallel.",
    "Type 2 diabetes develops when the body becomes resistant to insulin. Symptoms include thirst, frequent "
    "urination, tiredness and blurred vision. Treatment starts with diet, exercise and weight loss, followed by "
    "metformin and other medicines when blood sugar stays high.",
    "In autumn, trees stop producing chlorophyll as days shorten and temperatures fall. The green pigment breaks "
    "down, revealing yellow and orange carotenoids already in the leaf, while some species make red anthocyanins "
    "from sugars trapped in the leaves.",
    "An agreement is any mutual understanding between parties. A contract is an agreement the law will enforce: it "
    "needs an offer, acceptance, consideration, the intention to create legal relations and parties with the "
    "capacity to contract.",
    "Volcanoes form where molten rock reaches the surface. Most sit at plate boundaries, where one plate sinks "
    "beneath another or plates pull apart, and some form over hot spots in the mantle, such as the chain of the "
    "Hawaiian islands.",
    "Bread keeps best at room temperature in a paper bag or bread box for a day or two. For longer storage, slice "
    "and freeze it in an airtight bag; refrigeration makes bread go stale faster because the starch recrystallises.",
    "The Great Barrier Reef stretches more than 2,300 kilometres along the coast of Queensland. It is built by "
    "billions of coral polyps and is home to thousands of species of fish, molluscs and sea turtles, but warming "
    "seas have caused repeated mass bleaching.",
    "The violin has four strings tuned in fifths and is played with a bow strung with horsehair. Its modern form "
    "emerged in northern Italy in the sixteenth century, and the instruments of Stradivari and Guarneri remain the "
    "most prized.",
    "Photosynthesis converts light energy into chemical energy. In the chloroplasts, chlorophyll absorbs light to "
    "split water, releasing oxygen, and the energy captured is used to fix carbon dioxide into sugars in the "
    "Calvin cycle.",
    "A marathon covers 42.195 kilometres. The distance was fixed at the 1908 London Olympics so that the race could "
    "start at Windsor Castle and finish in front of the royal box, and it was adopted as the standard in 1921.",
    "Compound interest is interest earned on both the original principal and the interest already added. Over long "
    "periods it makes savings grow exponentially, which is why starting to save early matters more than the "
    "amount saved each month.",
    "The Roman Empire reached its greatest extent under Trajan in 117 AD, stretching from Britain to Mesopotamia. "
    "Roads, aqueducts and a common legal system bound the provinces together for centuries.",
    "Sourdough bread is leavened by a culture of wild yeasts and lactic acid bacteria. The long fermentation gives "
    "it a tangy flavour, an open crumb and a crust that keeps it fresh longer than bread made with baker's yeast.",
    "Antibiotics kill bacteria or stop them from multiplying, but they have no effect on viruses. Overuse has led to "
    "resistant strains, so doctors prescribe them only for bacterial infections and ask patients to finish the "
    "course.",
    "Earthquakes occur when stress built up along a fault is released suddenly. The energy travels as seismic waves, "
    "and the magnitude scale is logarithmic: each whole number step means about 32 times more energy.",
    "Solar panels turn sunlight into electricity with photovoltaic cells made of silicon. Light knocks electrons "
    "loose in the semiconductor, creating a current; an inverter converts it to alternating current for the home.",
    "A copyright protects an original work of authorship, such as a book, song or program, from the moment it is "
    "fixed in a tangible form. It gives the author exclusive rights to copy and distribute it for a limited time.",
    "Honeybees communicate the location of flowers with a waggle dance. The angle of the dance relative to vertical "
    "shows the direction of the food relative to the sun, and its duration tells how far away it is.",
    "Gradient descent trains a model by repeatedly adjusting its parameters in the direction that most reduces the "
    "loss. The learning rate sets the step size: too large and training diverges, too small and it crawls.",
    "The Amazon rainforest produces a large share of the world's river discharge and holds a tenth of known species. "
    "Deforestation for cattle ranching and soy farming threatens to turn parts of it into savanna.",
    "Glaciers form where more snow falls each winter than melts each summer. Over years the snow compacts into ice "
    "that flows slowly downhill under its own weight, carving valleys and carrying rock far from its source.",
    "Coffee contains caffeine, which blocks adenosine receptors in the brain and so reduces the feeling of "
    "tiredness. Moderate intake is considered safe for most adults, while large doses can cause anxiety and "
    "insomnia.",
    "The French Revolution began in 1789 with the storming of the Bastille. It abolished the monarchy, proclaimed "
    "the rights of man and reshaped European politics, before giving way to Napoleon's rule.",
    "Blood pressure is the force of blood against artery walls, written as systolic over diastolic pressure. High "
    "blood pressure rarely causes symptoms but raises the risk of heart attack and stroke, and is treated with "
    "lifestyle changes and medicines.",
    "Machine translation systems map a sentence in one language to another. Modern systems use encoder-decoder "
    "transformers trained on millions of sentence pairs, and are judged with metrics such as BLEU and by human "
    "raters.",
    "Tides are caused mainly by the Moon's gravity pulling on the oceans. Two bulges form, one facing the Moon and "
    "one opposite, so most coasts see two high tides and two low tides each day.",
    "A mortgage is a loan secured by property. The borrower repays principal and interest over a fixed term, and if "
    "payments stop the lender can repossess the home; fixed and variable rates share the risk differently.",
    "Chess is played on a board of 64 squares by two players with sixteen pieces each. The aim is to checkmate the "
    "opponent's king, and opening theory, tactics and endgame technique have been studied for centuries.",
)


def calibration_pairs() -> list[tuple[str, str]]:
    """Every query against every passage (320 pairs); every third pair's passage is joined with the next five, so
    long pairs are calibrated too."""
    pairs = []
    for q, query in enumerate(QUERIES):
        for p, passage in enumerate(PASSAGES):
            if (q + p) % 3 == 0:
                passage = " ".join(PASSAGES[(p + k) % len(PASSAGES)] for k in range(6))
            pairs.append((query, passage))
    return pairs
