"""The six units of the hand-checked sample delivery (sources/sample, its README)."""

U1, U2, U3, U4, U5, U6 = (
    "11320100100000016C",  # 甲局: all six indicators, task-quality and red-light deductions, 越位 T106
    "113201001000000247",  # 乙局: three indicators not applicable (weights redistributed)
    "113201001000000322",  # 丙局: ties U2, ranked ahead as the leaner unit
    "11320100100000040W",  # 丁局: false report, voluntary cut bonus, incident, grade 1
    "11320100100000059R",  # 戊局: highest total, vetoed → grade 3
    "11320100100000067L",  # 己局: support category, no reviews, uncovered core duty Z02
)
