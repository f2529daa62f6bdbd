"""综合素质评价 screens: the class grade grid with publicity, and the per-student page with
写实记录, objections and the report PDF (admin/services/evaluations.py)."""
