"""The member ledger (and the organisation tree) to and from Excel, the way bureaus keep them today.

* :mod:`.columns` — the columns of the sheets: Chinese headers, accepted spellings, allowed values;
* :mod:`.sheets` — reading an uploaded workbook safely and writing styled, printable ones;
* :mod:`.template` — the import templates (with an explanation sheet, drop-down lists, an example row);
* :mod:`.members` — validating every row of an upload with the ledger's rules and writing it in one transaction;
* :mod:`.jobs` — import jobs: small files in the request, large ones in the background;
* :mod:`.export` — masked, printable exports of the ledger and the organisation tree;
* :mod:`.branches` — importing the organisation tree.
"""
