-- What a worker's salary pays (社区工作者薪酬): the component (basic | performance | annual-bonus) and the
-- period ("2026-11", "2026-Q4", "2026"), NULL for other expenditures; the public sees, per community, the
-- total paid by component, never one worker's pay by name (such lines name the payee 社区工作者). Rows
-- recorded before this migration are filled by `ledger rebuild finances`.
ALTER TABLE expenditures ADD COLUMN pay_component text, ADD COLUMN pay_period text;
