"""notify service: the platform's messages to the people outside it — the
one-time materials notice (7.4.3), referrals to partners (8.3.4, 8.3.5),
escalations to managers (9.4), reports ready, satisfaction surveys (9.2.1)
and complaint answers (9.4) — by e-mail, SMS and the console's inbox."""
