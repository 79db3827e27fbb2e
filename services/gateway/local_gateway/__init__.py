"""Local twin of API Management: the platform's gateway contract in front of local services."""
