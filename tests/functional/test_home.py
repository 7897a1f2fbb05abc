def test_home_lists_sites_and_rooms_from_the_database(client, db, make_site, make_room):
    site = make_site(name="Bürgerhaus Hennen", district="Hennen")
    make_room(site, name="Großer Saal", capacity=160, features=["stage"])
    make_room(site, name="Alter Raum", active=False)
    db.session.commit()
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Bürgerhaus Hennen" in html
    assert "Großer Saal" in html
    assert "Alter Raum" not in html


def test_unknown_page_is_a_friendly_404(client):
    page = client.get("/no/such/page")
    assert page.status_code == 404
    assert "<html" in page.get_data(as_text=True)


def test_unknown_api_path_is_problem_json(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 404
