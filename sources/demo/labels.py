"""The demo's own label map, written in the layout of ScanNet's `scannetv2-labels.combined.tsv`.

The rows are written for the demo (not copied from ScanNet): every raw label the demo uses, synonym rows that share
one `id` (pillow/pillows, door/doors) and one short row, so readers are exercised on the traps of the real file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

TSV_HEADER = (
    "id raw_category category count nyu40id eigen13id nyuClass nyu40class eigen13class ModelNet40 ModelNet10 "
    "ShapeNetCore55 synsetoffset wnsynsetid wnsynsetkey mpcat40 mpcat40index"
).split()

NYU40 = (
    "void wall floor cabinet bed chair sofa table door window bookshelf picture counter blinds desk shelves curtain "
    "dresser pillow mirror floor_mat clothes ceiling books refrigerator television paper towel shower_curtain box "
    "whiteboard person night_stand toilet sink lamp bathtub bag otherstructure otherfurniture otherprop"
).split()
EIGEN13 = "void Bed Books Ceiling Chair Floor Furniture Objects Picture Sofa Table TV Wall Window".split()
MPCAT40 = (
    "void wall floor chair door table picture cabinet cushion window sofa bed curtain chest_of_drawers plant sink "
    "stairs ceiling toilet stool towel mirror tv_monitor shower column bathtub counter fireplace lighting beam "
    "railing shelving blinds gym_equipment seating board_panel furniture appliances clothes objects misc"
).split()


@dataclass(frozen=True)
class LabelRow:
    id: int
    raw: str
    category: str
    count: int
    nyu40id: int
    eigen13id: int
    nyu_class: str
    mpcat40: str
    shapenet: str = ""  # ModelNet40 / ShapeNetCore55 name when there is one
    synset: str = ""  # WordNet offset, e.g. 03001627
    short: bool = False  # write only the first 8 columns, like the real file's short rows

    @property
    def nyu40class(self) -> str:
        return NYU40[self.nyu40id].replace("_", " ")

    def cells(self) -> list[str]:
        cells = [
            str(self.id),
            self.raw,
            self.category,
            str(self.count),
            str(self.nyu40id),
            str(self.eigen13id),
            self.nyu_class,
            self.nyu40class,
            EIGEN13[self.eigen13id],
            self.shapenet,
            "",
            self.shapenet,
            self.synset,
            f"n{self.synset}" if self.synset else "",
            f"{self.shapenet}.n.01" if self.shapenet else "",
            self.mpcat40,
            str(MPCAT40.index(self.mpcat40)),
        ]
        return cells[:8] if self.short else cells


LABEL_ROWS: tuple[LabelRow, ...] = (
    LabelRow(1, "wall", "wall", 8277, 1, 12, "wall", "wall"),
    LabelRow(2, "chair", "chair", 4646, 5, 4, "chair", "chair", "chair", "03001627"),
    LabelRow(3, "floor", "floor", 1553, 2, 5, "floor", "floor"),
    LabelRow(4, "table", "table", 1170, 7, 10, "table", "table", "table", "04379243"),
    LabelRow(5, "door", "door", 1034, 8, 12, "door", "door"),
    LabelRow(5, "doors", "door", 41, 8, 12, "door", "door"),
    LabelRow(6, "couch", "couch", 502, 6, 9, "sofa", "sofa", "sofa", "04256520"),
    LabelRow(7, "cabinet", "cabinet", 719, 3, 6, "cabinet", "cabinet", "cabinet", "02933112"),
    LabelRow(9, "desk", "desk", 683, 14, 10, "desk", "table", "table", "04379243"),
    LabelRow(10, "office chair", "office chair", 595, 5, 4, "chair", "chair", "chair", "03001627"),
    LabelRow(11, "bed", "bed", 370, 4, 1, "bed", "bed", "bed", "02818832"),
    LabelRow(13, "pillow", "pillow", 577, 18, 7, "pillow", "cushion", "pillow", "03938244"),
    LabelRow(13, "pillows", "pillow", 72, 18, 7, "pillow", "cushion", "pillow", "03938244"),
    LabelRow(14, "sink", "sink", 488, 34, 7, "sink", "sink"),
    LabelRow(15, "picture", "picture", 862, 11, 8, "picture", "picture"),
    LabelRow(16, "window", "window", 817, 9, 13, "window", "window"),
    LabelRow(17, "toilet", "toilet", 407, 33, 7, "toilet", "toilet", "toilet", "04446276"),
    LabelRow(18, "bookshelf", "bookshelf", 360, 10, 6, "bookshelf", "shelving", "bookshelf", "02871439"),
    LabelRow(19, "monitor", "monitor", 766, 40, 7, "monitor", "tv_monitor", "monitor", "03782190"),
    LabelRow(22, "lamp", "lamp", 419, 35, 7, "lamp", "lighting", "lamp", "03636649"),
    LabelRow(23, "tv", "tv", 266, 25, 11, "television", "tv_monitor", "tv", "04404412"),
    LabelRow(24, "trash can", "trash can", 1090, 39, 6, "garbage bin", "objects", "trash_can", "02747177"),
    LabelRow(25, "refrigerator", "refrigerator", 154, 24, 6, "refridgerator", "appliances"),
    LabelRow(26, "nightstand", "nightstand", 224, 32, 6, "night stand", "chest_of_drawers"),
    LabelRow(27, "dresser", "dresser", 213, 17, 6, "dresser", "chest_of_drawers", "dresser", "03237340"),
    LabelRow(28, "plant", "plant", 331, 40, 7, "plant", "plant", short=True),
    LabelRow(29, "backpack", "backpack", 479, 37, 7, "backpack", "objects", "bag", "02773838"),
    LabelRow(30, "box", "box", 775, 29, 7, "box", "objects"),
    LabelRow(31, "keyboard", "keyboard", 246, 40, 7, "keyboard", "objects", "keyboard", "03085013"),
    LabelRow(32, "armchair", "armchair", 281, 5, 4, "chair", "chair", "chair", "03001627"),
    LabelRow(33, "coffee table", "coffee table", 258, 7, 10, "coffee table", "table", "table", "04379243"),
    LabelRow(34, "whiteboard", "whiteboard", 327, 30, 7, "whiteboard", "board_panel"),
    LabelRow(
        35, "kitchen cabinets", "kitchen cabinet", 310, 3, 6, "cabinet", "cabinet", "cabinet", "02933112"
    ),
    LabelRow(36, "kitchen counter", "kitchen counter", 140, 12, 6, "counter", "counter"),
    LabelRow(37, "microwave", "microwave", 141, 40, 7, "microwave", "appliances", "microwave", "03761084"),
    LabelRow(38, "bathtub", "bathtub", 144, 36, 7, "bathtub", "bathtub", "bathtub", "02808440"),
    LabelRow(39, "towel", "towel", 303, 27, 7, "towel", "towel"),
    LabelRow(39, "towels", "towel", 20, 27, 7, "towel", "towel"),
    LabelRow(40, "mirror", "mirror", 349, 19, 7, "mirror", "mirror"),
    LabelRow(41, "shelf", "shelf", 641, 15, 6, "shelves", "shelving"),
    LabelRow(42, "tv stand", "tv stand", 103, 39, 6, "tv stand", "furniture"),
)

_BY_RAW = {row.raw: row for row in LABEL_ROWS}


def label_row(raw: str) -> LabelRow:
    """The demo label map's row for a raw label (every raw label the demo writes has one)."""
    return _BY_RAW[raw]


def write_label_tsv(path: Path) -> None:
    lines = ["\t".join(TSV_HEADER)] + ["\t".join(row.cells()) for row in LABEL_ROWS]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
